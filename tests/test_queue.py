"""The queue engine on PostgreSQL: `xxgk trigger` enqueues (at most once per source), real `xxgk worker`
processes run the crawls, a stopped worker hands its crawl on, re-parses are spread the same way."""

from __future__ import annotations

import json
import signal

import pytest
from helpers import Cli, Proc, parse_ts, wait_for, write_config


@pytest.fixture
def queue_db(request, pg_url):
    if request.config.getoption("--db") == "sqlite":
        pytest.skip("the queue engine needs PostgreSQL (--db sqlite chosen)")
    return pg_url


def setup(tmp_path, portal, url, **source):
    cfg = write_config(
        tmp_path,
        portal,
        settings={"database_url": url, "engine": "queue", "lease_seconds": 3, "grace_seconds": 3},
        **source,
    )
    return Cli(cfg)


def worker(cli, tmp_path, name="w1", *extra) -> Proc:
    return Proc(cli.config, tmp_path / f"{name}.log", "worker", *extra, ready="taking up to").start()


def ledger(cli, name="kaihua") -> list[dict]:
    return list(reversed(cli.jsonl("runs", name, "--limit", "1000")))


def unique_docs(cli, source="kaihua") -> list[dict]:
    docs = cli.jsonl("ls", "--source", source)
    assert len({d["index_no"] or d["url"] for d in docs}) == len(docs), "a document stored twice"
    return docs


def test_trigger_queues_once_and_a_worker_runs_it(tmp_path, queue_db):
    from simulator import PortalSimulator

    with PortalSimulator(seed=3, docs=30) as portal:
        cli = setup(tmp_path, portal, queue_db)
        first = cli("trigger", "kaihua")
        assert "queued as job" in first.output and "no worker is running" in first.output
        assert "coalesced" in cli("trigger", "kaihua").output  # queueing lock: one waiting job a source
        queued, coalesced = ledger(cli)
        assert queued["status"] == "queued" and coalesced["status"] == "coalesced"
        w = worker(cli, tmp_path)
        try:
            run = wait_for(lambda: [r for r in ledger(cli) if r["status"] == "ok"], timeout=30)[0]
            assert run["id"] == queued["id"], "the queued row became the run"
            assert run["trigger"] == "trigger" and "queued by" in run["reason"]
            fleet = cli.jsonl("fleet")
            assert any(":worker:" in p.get("holder", "") for p in fleet) and "queue" in fleet[-1]
            cli("fleet", "--check", "worker")
            assert "no live daemon" in cli("fleet", "--check", "daemon", code=1).output
        finally:
            assert w.stop() == 0, w.output()
        assert len(unique_docs(cli)) == len(portal.expected_documents())
        assert [r["status"] for r in ledger(cli)] == ["ok", "coalesced"]


def test_a_stopped_worker_hands_its_crawl_to_another(tmp_path, portal, queue_db):
    cli = setup(tmp_path, portal, queue_db, rate=25, concurrency=2)  # 120 documents at 25/s: ~5 s
    cli("trigger", "kaihua")
    w1 = worker(cli, tmp_path, "w1")
    wait_for(lambda: len(cli.jsonl("ls", "--limit", "5")) >= 5, timeout=20)
    busy = [p for p in cli.jsonl("fleet")[:-1] if p["pid"] == w1.proc.pid]
    assert [p["crawling"] for p in busy] == [["kaihua"]], "fleet shows what each worker crawls now"
    assert w1.stop(signal.SIGTERM) == 0, w1.output()
    first, cont = ledger(cli)
    assert first["status"] == "interrupted" and 0 < first["new"] < len(portal.expected_documents())
    assert cont["status"] == "queued" and f"continues run {first['id']}" in cont["reason"]
    w2 = worker(cli, tmp_path, "w2")
    try:
        wait_for(lambda: ledger(cli)[-1]["status"] == "ok", timeout=30)
    finally:
        assert w2.stop() == 0, w2.output()
    assert ledger(cli)[-1]["holder"] != first["holder"]
    assert len(unique_docs(cli)) == len(portal.expected_documents())


def test_sources_on_one_host_are_crawled_one_at_a_time_across_workers(tmp_path, portal, queue_db):
    """Two sources (two columns of one portal) and two idle workers: the host lock lets one crawl at a
    time reach the host, so the per-host rate holds fleet-wide."""
    cli = setup(tmp_path, portal, queue_db, rate=40)
    first_col, *others = portal.column_urls
    every = "start_urls = [" + ", ".join(json.dumps(u) for u in portal.column_urls) + "]"
    text = cli.config.read_text().replace(every, f"start_urls = [{json.dumps(first_col)}]")
    text += (
        '\n[[sources]]\nname = "kaihua2"\nfamily = "hanweb-jpage"\nrate = 40\nconcurrency = 2\n'
        "start_urls = [" + ", ".join(json.dumps(u) for u in others) + "]\n"
    )
    cli.config.write_text(text)
    workers = [worker(cli, tmp_path, f"w{i}") for i in range(2)]
    try:
        cli("trigger", "kaihua")
        cli("trigger", "kaihua2")
        wait_for(lambda: all(ledger(cli, n)[-1]["status"] == "ok" for n in ("kaihua", "kaihua2")), timeout=60)
    finally:
        for w in workers:
            assert w.stop() == 0, w.output()
    (a,), (b,) = ledger(cli, "kaihua"), ledger(cli, "kaihua2")
    first, second = sorted((a, b), key=lambda r: r["started_at"])
    assert parse_ts(first["finished_at"]) <= parse_ts(second["started_at"]), "two crawls on one host at once"


def test_reparse_jobs_run_on_workers_under_the_source_lock(tmp_path, portal, queue_db):
    victim = portal.expected_documents()[4]["urls"][0]
    portal.inject(victim.split(portal.base_url)[1].replace(".", r"\.") + "$", "binary")
    cli = setup(tmp_path, portal, queue_db)
    cli("crawl", "kaihua")  # foreground crawls work with the queue engine too
    versions = len(unique_docs(cli))
    jobs = cli.jsonl("reparse", "--queue", "--json")
    assert [(j["source"], j["queued"]) for j in jobs] == [("kaihua", True)] and isinstance(jobs[0]["job"], int)
    again = cli.jsonl("reparse", "--queue", "--json")
    assert again == [{"source": "kaihua", "job": None, "queued": False}], "one waiting re-parse a source"
    w = worker(cli, tmp_path)
    try:
        wait_for(lambda: "re-parse of source" in w.output(), timeout=30)
    finally:
        assert w.stop() == 0, w.output()
    line = next(x for x in w.output().splitlines() if "re-parse of source kaihua" in x)
    summary = json.loads(line.split("re-parse of source kaihua: ", 1)[1])
    assert summary["versions"] == versions and summary["unchanged"] == versions
    assert summary["still_failing"] >= 1, "each failed capture of the broken page is tried again"
    assert summary["recovered"] == 0 and summary["errors"] == 0
    assert len(cli.jsonl("runs", "kaihua")) == 1, "a re-parse is no crawl: the ledger is left alone"


def test_reparse_queue_needs_postgresql(tmp_path, portal):
    cli = Cli(write_config(tmp_path, portal))
    cli("crawl", "kaihua")
    assert "needs PostgreSQL" in cli("reparse", "--queue", code=2).output


def test_worker_needs_postgresql(tmp_path, portal, monkeypatch):
    """One error, one exit code: the queue on SQLite is a config error (2) for every verb."""
    cli = Cli(write_config(tmp_path, portal))  # the embedded SQLite default
    r = cli("worker", code=2)
    assert "needs PostgreSQL" in r.output
    monkeypatch.setenv("XXGK_ENGINE", "queue")
    for verb in (("worker",), ("trigger", "kaihua"), ("daemon",)):
        assert "needs a PostgreSQL database_url" in cli(*verb, code=2).output, verb
