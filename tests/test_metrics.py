"""`xxgk daemon --metrics-port`: Prometheus metrics of a real daemon's crawl (this process's fetches,
bytes, lease renewals) and of the database (documents, runs, health), over real HTTP."""

from __future__ import annotations

import re

import httpx
import pytest
from helpers import Cli, Proc, wait_for, write_config
from prometheus_client import generate_latest
from web_helpers import free_port

from schedules.metrics import registry
from storage.db import open_readonly


def _value(text: str, pattern: str) -> float:
    m = re.search(pattern + r" ([0-9.e+]+)$", text, re.M)
    return float(m[1]) if m else 0.0


def test_daemon_metrics_port(tmp_path, portal, db_url):
    cfg = write_config(tmp_path, portal)
    cfg.write_text(cfg.read_text().replace("[settings]", "[settings]\nlease_seconds = 2"))
    cli, port = Cli(cfg), free_port()
    d = Proc(cfg, tmp_path / "daemon.log", "daemon", "--metrics-port", str(port), ready="scheduled sources").start()
    try:
        cli("trigger", "kaihua")
        wait_for(lambda: any(r["status"] == "ok" for r in cli.jsonl("runs")), timeout=60)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        assert d.stop() == 0, d.output()
    docs = cli.jsonl("sources")[0]["documents"]
    assert _value(text, r'xxgk_documents\{source="kaihua"\}') == docs > 0
    assert _value(text, r'xxgk_runs\{source="kaihua",status="ok"\}') == 1
    assert _value(text, r'xxgk_source_health\{health="OK",source="kaihua"\}') == 1
    assert _value(text, r'xxgk_last_success_timestamp_seconds\{source="kaihua"\}') > 1.7e9
    requests = _value(text, r'xxgk_http_requests_total\{source="kaihua",status_class="2xx"\}')
    assert requests >= docs
    assert _value(text, r'xxgk_fetch_seconds_count\{source="kaihua"\}') >= requests
    assert _value(text, r'xxgk_archived_bytes_total\{source="kaihua"\}') > 100_000
    assert _value(text, r'xxgk_lease_renewals_total\{result="renewed"\}') >= 1


def test_worker_metrics_port_counts_its_crawls_and_the_queue(tmp_path, pg_url, request):
    if request.config.getoption("--db") == "sqlite":
        pytest.skip("the queue engine needs PostgreSQL (--db sqlite chosen)")
    from simulator import PortalSimulator

    with PortalSimulator(seed=3, docs=30) as portal:
        cfg = write_config(tmp_path, portal, settings={"database_url": pg_url, "engine": "queue"})
        cli, port = Cli(cfg), free_port()
        cli("trigger", "kaihua")
        engine = open_readonly(pg_url)
        queued = generate_latest(registry(engine)).decode()  # what any /metrics reads
        engine.dispose()
        w = Proc(cfg, tmp_path / "worker.log", "worker", "--metrics-port", str(port), ready="taking up to").start()
        try:
            wait_for(lambda: any(r["status"] == "ok" for r in cli.jsonl("runs")), timeout=60)
            text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        finally:
            assert w.stop() == 0, w.output()
    assert _value(text, r'xxgk_http_requests_total\{source="kaihua",status_class="2xx"\}') >= 30
    assert _value(queued, r'xxgk_queue_jobs\{status="todo",task="xxgk.crawl"\}') == 1
    assert _value(text, r'xxgk_documents\{source="kaihua"\}') == 30


def test_observe_counts_each_response_in_its_series():
    from prometheus_client import REGISTRY

    from scraper.metrics import observe

    def value(name: str, **labels) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = value("xxgk_http_requests_total", source="metrics-unit", status_class="4xx")
    for status, size, seconds in ((404, 10, 0.2), (410, 5, 0.03), (200, 100, 7.0)):
        observe("metrics-unit", status, size, seconds)
    assert value("xxgk_http_requests_total", source="metrics-unit", status_class="4xx") == before + 2
    assert value("xxgk_http_requests_total", source="metrics-unit", status_class="2xx") == 1
    assert value("xxgk_archived_bytes_total", source="metrics-unit") == 115
    assert value("xxgk_fetch_seconds_count", source="metrics-unit") == 3
    assert value("xxgk_fetch_seconds_bucket", source="metrics-unit", le="0.05") == 1
    assert value("xxgk_fetch_seconds_sum", source="metrics-unit") == pytest.approx(7.23)
