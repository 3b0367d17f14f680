"""The fleet on PostgreSQL: one `xxgk daemon` (engine = "queue") schedules 10 simulated portals, three
`xxgk worker` processes crawl them. Every source is crawled, never by two workers at once, and a worker
killed with SIGKILL mid-crawl costs nothing: its job is retried elsewhere after the lease lapses and
every document is there exactly once."""

from __future__ import annotations

import json
import signal
import subprocess
from collections import defaultdict
from contextlib import ExitStack

import pytest
from helpers import XXGK, Cli, Proc, parse_ts, wait_for, write_config

from simulator import PortalSimulator

RAN = ("ok", "partial", "interrupted")
N_PORTALS, DOCS, BIG = 10, 24, 70  # portal s0 is bigger and slower: its worker gets killed


@pytest.fixture
def fleet_db(request, pg_url):
    if request.config.getoption("--db") == "sqlite":
        pytest.skip("the fleet needs PostgreSQL (--db sqlite chosen)")
    return pg_url


def fleet_config(tmp_path, portals, url):
    cfg = write_config(
        tmp_path, portals[0], settings={"database_url": url, "engine": "queue", "lease_seconds": 3, "grace_seconds": 3}
    )
    text = cfg.read_text().split("[[sources]]")[0]
    for i, sim in enumerate(portals):
        urls = ", ".join(f'"{u}"' for u in sim.column_urls)
        text += (
            f'[[sources]]\nname = "s{i}"\nstart_urls = [{urls}]\nfamily = "hanweb-jpage"\n'
            f'schedule = "every 3s"\nrate = {6 if i == 0 else 20}\nconcurrency = 2\n\n'
        )
    cfg.write_text(text)
    return Cli(cfg)


def by_source(cli) -> dict[str, list[dict]]:
    rows = defaultdict(list)
    for r in reversed(cli.jsonl("runs", "--limit", "5000")):
        rows[r["source"]].append(r)
    return rows


def key(doc: dict) -> str:
    return doc["index_no"] or sorted(doc["urls"])[0]


def pid_of(holder: str) -> int:
    return int(holder.split(":")[1])


def test_daemon_and_three_workers_over_ten_portals(tmp_path, fleet_db):
    with ExitStack() as stack:
        portals = [stack.enter_context(PortalSimulator(seed=i, docs=BIG if i == 0 else DOCS)) for i in range(N_PORTALS)]
        # A document is its 索引号 wherever it is seen: portals may share some (the seed document).
        expected = {f"s{i}": {key(e) for e in p.expected_documents()} for i, p in enumerate(portals)}
        everything = set().union(*expected.values())
        s0_items = sum(len(e["urls"]) for e in portals[0].expected_documents())
        cli = fleet_config(tmp_path, portals, fleet_db)
        daemon = Proc(cli.config, tmp_path / "daemon.log", "daemon", ready="scheduled sources").start()
        workers = [Proc(cli.config, tmp_path / f"w{i}.log", "worker", ready="taking up to").start() for i in range(3)]
        try:
            # Kill (SIGKILL) the worker crawling s0 once s0 is partly stored.
            def s0_half_done():
                running = [r for r in by_source(cli)["s0"] if r["status"] == "running"]
                return running if running and len(cli.jsonl("ls", "--source", "s0")) >= 10 else None

            running = wait_for(s0_half_done, timeout=60, step=0.3)[0]
            victim = next(w for w in workers if w.proc.pid == pid_of(running["holder"]))
            victim.stop(signal.SIGKILL)
            assert len(cli.jsonl("ls", "--source", "s0")) < len(expected["s0"]), "killed mid-crawl"

            def missing():
                runs = by_source(cli)
                idle = [name for name in expected if not any(r["status"] == "ok" for r in runs[name])]
                return idle + sorted(everything - {key(d) for d in cli.jsonl("ls")})

            wait_for(lambda: not missing(), timeout=90, step=0.5, why=missing)
        finally:
            assert daemon.stop() == 0, daemon.output()
            for w in workers:
                if w.proc.poll() is None:
                    assert w.stop() == 0, w.output()

    runs = by_source(cli)
    # Every source crawled, every document exactly once.
    docs = [key(d) for d in cli.jsonl("ls")]
    assert len(docs) == len(set(docs)) and set(docs) == everything
    assert all(any(r["status"] == "ok" for r in runs[name]) for name in expected)
    # The daemon scheduled; workers ran (several of them); the daemon crawled nothing itself.
    ran = [r for rows in runs.values() for r in rows if r["status"] in RAN]
    assert all(":worker:" in r["holder"] for r in ran)
    assert any(r["trigger"] == "schedule" and r["scheduled_for"] for r in ran)
    assert len({pid_of(r["holder"]) for r in ran}) == 3, "all three workers took jobs"
    # Never two crawls of one source at once.
    for name, rows in runs.items():
        spans = sorted((parse_ts(r["started_at"]), parse_ts(r["finished_at"])) for r in rows if r["status"] in RAN)
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert end <= start, f"{name}: overlapping runs {spans}"
    # The killed crawl: recorded interrupted (its process gone from this host), retried by another worker, resumed.
    killed = next(r for r in runs["s0"] if r["id"] == running["id"])
    assert killed["status"] == "interrupted" and "process is gone" in killed["reason"]
    retry = next(r for r in runs["s0"] if r["id"] != killed["id"] and "worker died" in (r["reason"] or ""))
    assert retry["status"] == "ok" and pid_of(retry["holder"]) != victim.proc.pid
    assert parse_ts(retry["started_at"]) > parse_ts(killed["started_at"])
    assert retry["listed"] == s0_items and retry["errors"] == 0, "resumed: walked the lists past known items"
    assert 0 < retry["fetched"] < retry["listed"], "what the killed run stored was kept, not fetched again"


def test_two_sources_sharing_documents_crawled_at_once(tmp_path, db_url):
    """Two processes crawl two sources that publish the same documents (same 索引号, other URLs):
    each document is stored once, with both URLs, and neither crawl loses one to the race."""
    with PortalSimulator(seed=5, docs=40) as a, PortalSimulator(seed=5, docs=40) as b:
        cfg = write_config(tmp_path, a)
        text = cfg.read_text().replace('name = "kaihua"', 'name = "a"')
        urls = ", ".join(f'"{u}"' for u in b.column_urls)
        cfg.write_text(
            text + f'\n[[sources]]\nname = "b"\nstart_urls = [{urls}]\nfamily = "hanweb-jpage"\n'
            f"rate = 0\nconcurrency = 4\n"
        )
        cli = Cli(cfg)
        cli("sources")  # migrate first: the race is in the documents
        procs = [
            subprocess.Popen(
                [XXGK, "--config", str(cfg), "crawl", name, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for name in ("a", "b")
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        summaries = [json.loads(out.splitlines()[0]) for out, _ in outs]
        assert all(s["status"] == "ok" and s["errors"] == 0 for s in summaries), [e[-3000:] for _, e in outs]
        docs = cli.jsonl("ls")
        assert len(docs) == len(a.expected_documents())
        assert all(
            len(d["urls"]) == len(e["urls"]) * 2
            for d, e in zip(sorted(docs, key=key), sorted(a.expected_documents(), key=key))
        )
