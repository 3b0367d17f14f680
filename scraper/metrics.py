"""Prometheus counters of this process's crawling (exposed by `--metrics-port` and `xxgk serve`)."""

from __future__ import annotations

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


_CHILDREN: dict[tuple[str, int], tuple] = {}  # (source, status // 100) -> its three labelled metrics


def observe(source: str, status: int, size: int, seconds: float) -> None:
    """One archived response."""
    key = (source, status // 100)
    children = _CHILDREN.get(key)
    if children is None:  # labels() takes a lock and checks its values each call: looked up once
        children = _CHILDREN[key] = (
            HTTP_REQUESTS.labels(source, f"{status // 100}xx"),
            FETCH_SECONDS.labels(source),
            ARCHIVED_BYTES.labels(source),
        )
    requests, fetch, archived = children
    requests.inc()
    fetch.observe(seconds)
    archived.inc(size)
