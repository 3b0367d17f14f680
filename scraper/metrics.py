"""Prometheus counters of this process's crawling (exposed by `--metrics-port` and `xxgk serve`)."""

from __future__ import annotations

from functools import lru_cache

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "xxgk_http_requests", "Responses archived, by source and status class (2xx ...)", ["source", "status_class"]
)
FETCH_SECONDS = Histogram(
    "xxgk_fetch_seconds",
    "Time to fetch one response (one attempt)",
    ["source"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ARCHIVED_BYTES = Counter("xxgk_archived_bytes", "Bytes of responses archived (before dedupe)", ["source"])


def observe(source: str, status: int, size: int, seconds: float) -> None:
    """One archived response."""
    requests, fetch_seconds, archived_bytes = _children(source, status // 100)
    requests.inc()
    fetch_seconds.observe(seconds)
    archived_bytes.inc(size)


@lru_cache(maxsize=1024)
def _children(source: str, status_class: int):
    """The three series of a source and status class (labels() looks them up under a lock: ~10 us a response)."""
    return (
        HTTP_REQUESTS.labels(source, f"{status_class}xx"),
        FETCH_SECONDS.labels(source),
        ARCHIVED_BYTES.labels(source),
    )
