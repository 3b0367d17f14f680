"""Prometheus metrics (names prefixed `xxgk_`): this process's counters, and gauges read from the
database at each scrape (documents, runs, health, last success by source; queue depth; lease renewals)."""

from __future__ import annotations

from loguru import logger
from prometheus_client import REGISTRY, CollectorRegistry, Counter, start_http_server
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.engine import Engine

import scraper.metrics  # noqa: F401 - registers the crawl counters this process exposes
from schedules.queue import queue_counts
from storage.db import read_session
from storage.stamps import as_utc
from storage.stats import fleet_gauges

LEASE_RENEWALS = Counter(
    "xxgk_lease_renewals",
    "Lease heartbeats, by result (renewed, lost, or failed: the database did not answer)",
    ["result"],
)


class ArchiveCollector:
    """Gauges from the database, read when scraped."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self):
        with read_session(self.engine) as s:
            g = fleet_gauges(s)
        docs = GaugeMetricFamily("xxgk_documents", "Documents archived, by source", labels=["source"])
        for name, n in g["documents"].items():
            docs.add_metric([name], n)
        runs = GaugeMetricFamily("xxgk_runs", "Runs in the ledger, by source and status", labels=["source", "status"])
        for (name, status), n in g["runs"].items():
            runs.add_metric([name, status], n)
        health = GaugeMetricFamily(
            "xxgk_source_health", "1 for each source's current health", labels=["source", "health"]
        )
        for name, value in g["health"].items():
            health.add_metric([name, value], 1)
        last = GaugeMetricFamily(
            "xxgk_last_success_timestamp_seconds", "End of each source's last ok run", labels=["source"]
        )
        for name, ts in g["last_success"].items():
            last.add_metric([name], as_utc(ts).timestamp())
        depth = GaugeMetricFamily("xxgk_queue_jobs", "Queued crawl jobs, by task and status", labels=["task", "status"])
        if self.engine.dialect.name == "postgresql":
            for task, counts in queue_counts(self.engine).items():
                for status, n in counts.items():
                    depth.add_metric([task, status], n)
        yield from (docs, runs, health, last, depth)


class _Process:
    """This process's own counters (fetches, bytes, lease renewals)."""

    def collect(self):
        yield from REGISTRY.collect()


def registry(engine: Engine) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(_Process())
    reg.register(ArchiveCollector(engine))
    return reg


def serve_metrics(engine: Engine, port: int, host: str = "0.0.0.0") -> None:
    """`--metrics-port`: /metrics in the Prometheus text format from a background thread."""
    start_http_server(port, addr=host, registry=registry(engine))
    logger.info("metrics on http://{}:{}/metrics", host, port)
