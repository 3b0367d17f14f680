"""A real `xxgk daemon` process against the simulator, with second-level schedules."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import XXGK, Cli, Proc, parse_ts, wait_for, write_config

pytestmark = pytest.mark.usefixtures("db_url")  # every test here runs on each database


class Daemon(Proc):
    def __init__(self, config: Path, log: Path):
        super().__init__(config, log, "daemon", ready="scheduled sources")


def runs(cli, name="kaihua") -> list[dict]:
    return list(reversed(cli.jsonl("runs", name, "--limit", "1000")))


@pytest.fixture
def small_portal():
    from simulator import PortalSimulator

    with PortalSimulator(seed=3, docs=30) as sim:
        yield sim


def setup(tmp_path, portal, **source):
    cfg = write_config(tmp_path, portal, **source)
    text = cfg.read_text().replace("[settings]", "[settings]\nlease_seconds = 2\ngrace_seconds = 3")
    cfg.write_text(text)
    return Cli(cfg), Daemon(cfg, tmp_path / "daemon.log")


def test_scheduled_runs_happen_on_time(tmp_path, small_portal):
    cli, d = setup(tmp_path, small_portal, schedule="every 2s")
    d.start()
    try:
        wait_for(lambda: len([r for r in runs(cli) if r["status"] in ("ok", "partial")]) >= 3, timeout=30)
    finally:
        assert d.stop() == 0, d.output()
    ran = [r for r in runs(cli) if r["trigger"] == "schedule" and r["status"] in ("ok", "partial")]
    for r in ran:
        lag = (parse_ts(r["started_at"]) - parse_ts(r["scheduled_for"])).total_seconds()
        assert -0.1 <= lag < 2.0, r  # started within 2 s of its slot (a loaded 2-core box)
    slots = [parse_ts(r["scheduled_for"]) for r in runs(cli) if r["scheduled_for"]]
    gaps = {round((b - a).total_seconds()) for a, b in zip(slots, slots[1:])}
    assert gaps == {2}, slots
    assert "run 1 kaihua ok" in d.output().replace("  ", " ") or "kaihua ok" in d.output()


@pytest.mark.parametrize("on_missed", ["run", "skip"])
def test_a_slot_missed_while_stopped(tmp_path, small_portal, on_missed):
    cli, d = setup(tmp_path, small_portal, schedule="every 2s", on_missed=on_missed)
    d.start()
    wait_for(lambda: any(r["status"] == "ok" for r in runs(cli)), timeout=15)
    assert d.stop() == 0
    before = len(runs(cli))
    time.sleep(5)  # two or three slots pass with no daemon
    d.start()
    try:
        time.sleep(1.5)
    finally:
        assert d.stop() == 0, d.output()
    new = runs(cli)[before:]
    missed = [r for r in new if r["scheduled_for"] and "missed" in (r["reason"] or "") or r["status"] == "coalesced"]
    assert missed, new
    if on_missed == "run":
        catch_up = [r for r in new if (r["reason"] or "").startswith("catch-up")]
        assert len(catch_up) == 1 and catch_up[0]["status"] in ("ok", "partial", "interrupted")
        assert all(r["status"] == "coalesced" for r in new if r["status"] not in ("ok", "partial", "interrupted"))
    else:
        skipped = [r for r in new if r["status"] == "skipped"]
        assert len(skipped) >= 2 and all("on_missed = skip" in r["reason"] for r in skipped)
        assert not [r for r in new if (r["reason"] or "").startswith("catch-up")]


def test_trigger_starts_a_run_within_2s(tmp_path, small_portal):
    cli, d = setup(tmp_path, small_portal)
    r = cli("trigger", "kaihua")
    assert "no daemon is running" in r.output
    d.start()
    try:
        wait_for(lambda: any(x["trigger"] == "trigger" for x in runs(cli)), timeout=5)  # the queued one
        t0 = time.time()
        r = cli("trigger", "kaihua")
        assert "starts it within 2 s" in r.output
        n = len([x for x in runs(cli) if x["trigger"] == "trigger"])
        run = wait_for(lambda: [x for x in runs(cli) if x["trigger"] == "trigger"][n:], timeout=5)[0]
        assert parse_ts(run["started_at"]).timestamp() - t0 < 2.0
    finally:
        assert d.stop() == 0, d.output()


def test_sigterm_mid_crawl_exits_0_and_a_later_run_completes(tmp_path, portal):
    cli, d = setup(tmp_path, portal, rate=20, concurrency=2)  # 120 docs at 20/s: ~7 s
    d.start()
    cli("trigger", "kaihua")
    wait_for(lambda: cli.jsonl("ls", "--limit", "1"), timeout=10)
    time.sleep(0.5)
    t0 = time.monotonic()
    assert d.stop(signal.SIGTERM) == 0, d.output()
    assert time.monotonic() - t0 < 3 + 5
    run = runs(cli)[-1]
    assert run["status"] == "interrupted", run
    got = len(cli.jsonl("ls"))
    assert 0 < got < len(portal.expected_documents())
    summary = cli.jsonl("crawl", "kaihua")[0]
    assert summary["resumed"] and summary["status"] == "ok"
    docs = cli.jsonl("ls")
    assert len(docs) == len(portal.expected_documents())
    assert len({d["index_no"] or d["url"] for d in docs}) == len(docs)


def test_sigkill_mid_crawl_then_the_next_run_resumes(tmp_path, portal):
    cli, d = setup(tmp_path, portal, rate=20, concurrency=2)
    d.start()
    cli("trigger", "kaihua")
    wait_for(lambda: cli.jsonl("ls", "--limit", "1"), timeout=10)
    time.sleep(0.5)
    d.stop(signal.SIGKILL)
    assert runs(cli)[-1]["status"] == "running"  # what a kill leaves behind
    summary = cli.jsonl("crawl", "kaihua")[0]  # at once: the dead holder was of this host
    assert summary["status"] == "ok" and summary["resumed"]
    ledger = runs(cli)
    assert ledger[-2]["status"] == "interrupted" and "process is gone" in ledger[-2]["reason"]
    docs = cli.jsonl("ls")
    assert len(docs) == len(portal.expected_documents())
    assert len({x["index_no"] or x["url"] for x in docs}) == len(docs)


def crawler(cli, *extra):
    return subprocess.Popen(
        [XXGK, "--config", str(cli.config), "crawl", "kaihua", "--json", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def assert_no_overlap(cli) -> list[dict]:
    ran = [r for r in runs(cli) if r["status"] in ("ok", "partial", "interrupted")]
    spans = sorted((parse_ts(r["started_at"]), parse_ts(r["finished_at"])) for r in ran)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert end <= start, f"overlapping runs: {spans}"
    return ran


def test_two_processes_never_crawl_one_source_at_once(tmp_path, portal):
    cli, _ = setup(tmp_path, portal, rate=20, concurrency=2)
    # Racing from a fresh database: migrations and the lease are contended; never two crawls at once.
    racers = [crawler(cli) for _ in range(3)]
    codes = [p.wait(timeout=90) for p in racers]
    assert set(codes) <= {0, 3} and 0 in codes, [p.stderr.read()[-2000:] for p in racers]
    assert_no_overlap(cli)
    # While one crawls: a second one is refused (exit 3); a third with --wait runs after it.
    first = crawler(cli, "--full")
    wait_for(lambda: runs(cli)[-1]["status"] == "running", timeout=15)
    second = crawler(cli)
    assert second.wait(timeout=30) == 3 and b"is being crawled by" in second.stderr.read()
    third = crawler(cli, "--wait")
    assert first.wait(timeout=90) == 0 and third.wait(timeout=90) == 0
    assert len(assert_no_overlap(cli)) == codes.count(0) + 2


def test_sighup_reloads_the_config(tmp_path, small_portal):
    cli, d = setup(tmp_path, small_portal)
    d.start()
    try:
        time.sleep(1.0)
        assert not runs(cli)
        text = cli.config.read_text().replace('name = "kaihua"', 'name = "kaihua"\nschedule = "every 1s"')
        cli.config.write_text(text)
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: any(r["trigger"] == "schedule" for r in runs(cli)), timeout=8)
        cli.config.write_text("this is not toml")
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        assert d.proc.poll() is None, "a bad config on SIGHUP must not kill the daemon"
    finally:
        assert d.stop() == 0
    assert "config not reloaded" in d.output()


def test_one_daemon_a_database(tmp_path, small_portal):
    """A second daemon on the same database refuses to start (exit 3, naming the first); once the first
    is killed (its beat still fresh), a new one takes over at once."""
    cli, first = setup(tmp_path, small_portal)
    first.start()
    second = subprocess.run([XXGK, "--config", str(cli.config), "daemon"], capture_output=True, text=True, timeout=60)
    assert second.returncode == 3, second.stderr
    assert "another daemon schedules this database" in second.stderr and str(first.proc.pid) in second.stderr
    first.stop(signal.SIGKILL)
    third = Daemon(cli.config, tmp_path / "third.log").start()  # a dead process's fresh beat: no bar
    assert third.stop() == 0, third.output()
