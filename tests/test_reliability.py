"""Faults, hostile input and crashes (issue: reliability and security). Real HTTP, real SQLite."""

from __future__ import annotations

import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import pytest
from helpers import Cli, check_exact, db_of, full_doc, path_regex, write_config
from sqlmodel import select

from storage.archive import open_archive
from storage.db import open_database, read_session
from storage.models import Blob, Capture, CrawlRun

ARTICLES = r"^/art/"
LISTS = r"^/(col|module/web)/"
XXGK = str(Path(sys.executable).with_name("xxgk"))


@pytest.fixture
def portal():
    """A smaller portal than the suite's default: these tests crawl it many times over."""
    from simulator import PortalSimulator

    with PortalSimulator(seed=7, docs=48) as sim:
        yield sim


def crawl(cli, *args, code=0) -> dict:
    return cli.jsonl("crawl", "kaihua", *args, code=code)[0]


def problems(summary: dict) -> str:
    return "\n".join(summary["problems"])


@pytest.mark.one_db  # fetch-level faults: the database is incidental
@pytest.mark.parametrize(
    "fault, where, params",
    [
        ("status", ARTICLES, {"code": 503}),
        ("status", LISTS, {"code": 500}),
        ("status", ARTICLES, {"code": 429, "retry_after": 0}),
        ("reset", ARTICLES, {}),
        ("truncate", ARTICLES, {}),
        ("truncate", LISTS, {}),
        ("challenge", ARTICLES, {}),
        ("wall", ARTICLES, {}),
        ("captcha", ARTICLES, {}),
        ("binary", ARTICLES, {}),
        ("redirect-loop", ARTICLES, {}),
        ("redirect-offsite", ARTICLES, {}),
        ("endless", ARTICLES, {}),
        ("gzip-bomb", ARTICLES, {"size": 64 << 20}),
    ],
)
def test_intermittent_faults_are_recovered_exactly(cli, portal, fault, where, params):
    """At a 30% rate every fault is got past: every document archived, exact, once."""
    portal.inject(where, fault, **{"rate": 0.3, **params})
    s = crawl(cli)
    assert s["status"] == "ok", problems(s)
    assert sum(1 for r in portal.requests if fault in r.faults) > 0, "the fault was injected"
    check_exact(cli, portal.expected_documents())


def test_malformed_list_xml_is_asked_again():
    from simulator import PortalSimulator

    with PortalSimulator(seed=7, docs=120) as big, tempfile.TemporaryDirectory() as tmp:
        cli = Cli(write_config(Path(tmp), big))
        big.inject(r"dataproxy", "malformed-xml", times=3)
        s = crawl(cli)
        assert s["status"] == "ok", problems(s)
        assert sum(1 for r in big.requests if "malformed-xml" in r.faults) >= 3
        check_exact(cli, big.expected_documents())


@pytest.mark.one_db  # fetch-level faults: the database is incidental
@pytest.mark.parametrize(
    "fault, params",
    [
        ("cookie-wall", {}),
        ("wrong-type", {}),
        ("malformed-html", {}),
        ("drip", {"chunk": 4096, "seconds": 0.001}),
        ("bad-bytes", {}),
    ],
)
def test_pages_that_are_odd_but_whole_are_read_exactly(cli, portal, fault, params):
    portal.inject(ARTICLES, fault, **params)
    s = crawl(cli)
    assert s["status"] == "ok" and s["errors"] == 0, problems(s)
    check_exact(cli, portal.expected_documents())
    if fault == "cookie-wall":
        arts = [r for r in portal.requests if r.path.startswith("/art/") and r.status == 200]
        assert arts and all("CT6T=" in r.headers.get("cookie", "") for r in arts)


@pytest.mark.parametrize("fault, rate", [("shift", 1.0), ("shift", 0.4), ("duplicate", 1.0), ("duplicate", 0.4)])
def test_lists_that_move_while_paged_lose_and_duplicate_nothing(tmp_path, fault, rate):
    from simulator import PortalSimulator

    with PortalSimulator(seed=7, docs=300) as big:  # columns long enough to be paged
        cli = Cli(write_config(tmp_path, big))
        big.inject(r"dataproxy", fault, rate)
        s = crawl(cli)
        assert s["status"] == "ok", problems(s)
        assert sum(1 for r in big.requests if fault in r.faults) >= 1
        assert s["listed"] == sum(len(e["urls"]) for e in big.expected_documents())
        check_exact(cli, big.expected_documents())


@pytest.mark.one_db  # fetch-level faults: the database is incidental
@pytest.mark.parametrize(
    "fault, params, words",
    [
        ("redirect-loop", {}, "more than 5 redirects"),
        ("redirect-offsite", {}, "refusing off-site URL"),
        ("endless", {}, "over the"),
        ("gzip-bomb", {"size": 256 << 20}, "over the"),
        ("huge", {"size": 50_000_000}, "over the"),
        ("challenge", {}, "cookie challenge"),
    ],
)
def test_a_permanently_bad_document_is_a_clear_error_and_the_crawl_goes_on(cli, portal, fault, params, words):
    victim = portal.expected_documents()[4]
    portal.inject(path_regex(victim["urls"][0]), fault, **params)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    s = crawl(cli)
    assert s["status"] == "partial" and s["errors"] == 1
    assert words in problems(s) and victim["urls"][0] in problems(s)
    assert len(cli.jsonl("ls")) == len(portal.expected_documents()) - 1
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    assert grown < 200, f"memory grew {grown:.0f} MB: the cap did not hold"


def test_slow_drip_cannot_hang_the_crawl(tmp_path, portal):
    cfg = write_config(tmp_path, portal)
    cfg.write_text(cfg.read_text().replace("timeout = 5", "timeout = 0.2"))
    victim = portal.expected_documents()[2]["urls"][0]
    portal.inject(path_regex(victim), "drip", chunk=64, seconds=0.05)
    t0 = time.monotonic()
    s = crawl(Cli(cfg))
    assert s["errors"] == 1 and "timed out" in problems(s)
    assert time.monotonic() - t0 < 60


def test_xml_entities_are_never_expanded(cli, portal):
    portal.inject(r"dataproxy", "xml-entities")
    s = crawl(cli)
    assert s["status"] == "ok"
    check_exact(cli, portal.expected_documents())


def test_hostile_input_stays_text_and_inside_the_data_dir(tmp_path, portal):
    cli = Cli(write_config(tmp_path, portal))
    docs = portal.expected_documents()
    with_att = [d for d in docs if d["attachments"]][:3]
    for d in with_att:
        portal.inject(path_regex(d["urls"][0]), "hostile-names")
    portal.inject(path_regex(docs[1]["urls"][0]), "deep-html")
    portal.inject(path_regex(docs[3]["urls"][0]), "sql-index")
    before = {p for p in Path("/tmp").iterdir()}
    s = crawl(cli)
    assert s["status"] == "ok", problems(s)
    for d in with_att:
        names = [a["name"] for a in full_doc(cli, d["index_no"] or d["urls"][0])["attachments"]]
        assert any(".." in n or n.startswith("/") or "\x00" in n or len(n) > 500 for n in names), names
    evil = [r for r in cli.jsonl("ls") if r["index_no"] and "DROP" in r["index_no"]]
    assert len(evil) == 1 and evil[0]["index_no"].startswith("1';DROPTABLEDOCUMENTS;--/2025-00001")
    assert full_doc(cli, evil[0]["index_no"])["title"] == docs[3]["title"]
    assert len(cli.jsonl("ls")) == len(docs)  # the documents table is intact
    deep = full_doc(cli, docs[1]["index_no"] or docs[1]["urls"][0])
    assert deep["body_text"] == docs[1]["body_text"]
    outside = {p for p in Path("/tmp").iterdir()} - before
    assert not [p for p in outside if "passwd" in p.name or "shadow" in p.name]
    for path in tmp_path.rglob("*"):
        assert path.resolve().is_relative_to(tmp_path.resolve())


@pytest.mark.parametrize(
    "args",
    [
        ["show", "'; DROP TABLE documents; --"],
        ["show", "1' OR '1'='1"],
        ["ls", "--publisher", "%' OR 1=1 --"],
        ["ls", "--source", "x'; DELETE FROM sources; --"],
    ],
)
def test_sql_metacharacters_in_arguments_are_just_text(cli, portal, args):
    crawl(cli)
    n = len(cli.jsonl("ls"))
    r = cli(*args, code=None)
    assert r.exit_code in (0, 1, 2)  # 2: no source has that name
    if args[0] == "ls":
        assert cli.jsonl(*args, code=2 if "--source" in args else 0) == []
    assert len(cli.jsonl("ls")) == n


def consistent(tmp_path: Path) -> None:
    """Database and archive agree: every capture's blob is there and whole; every blob file has a row."""
    engine = open_database(db_of(tmp_path))
    store = open_archive(f"file://{tmp_path}/data/archive")
    with read_session(engine) as s:
        shas = set(s.exec(select(Capture.sha256)).all())
        rows = set(s.exec(select(Blob.sha256)).all())
        running = s.exec(select(CrawlRun).where(CrawlRun.status == "running")).all()
    assert not running
    for sha in shas:
        store.get(sha)  # raises on a missing or corrupt blob
    files = set(store.iter_hashes())
    assert files == rows, f"orphan blobs {files - rows}, rows without files {rows - files}"


def runs_started(tmp_path: Path, n: int, timeout: float = 60) -> None:
    """Wait until the ledger holds `n` crawl runs (a run row is made as its crawl starts); read-only,
    with sqlite3 itself, so the wait never migrates or locks the database the crawl is making."""
    path, deadline = Path(tmp_path, "data", "xxgk.db"), time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)) as conn:
                if conn.execute("SELECT count(*) FROM crawl_runs").fetchone()[0] >= n:
                    return
        except sqlite3.Error:
            pass  # not made yet, or being migrated
        time.sleep(0.05)
    raise AssertionError(f"no crawl run {n} within {timeout} s")


def test_kill_9_at_random_points_loses_and_duplicates_nothing(tmp_path, portal):
    cfg = write_config(tmp_path, portal, rate=40, concurrency=2)
    cfg.write_text(cfg.read_text().replace("[settings]", "[settings]\nlease_seconds = 1"))
    cli = Cli(cfg)
    import random

    rnd = random.Random(5)
    for n in range(1, 5):
        proc = subprocess.Popen([XXGK, "--config", str(cfg), "-q", "crawl", "kaihua", "--wait", "--full"])
        runs_started(tmp_path, n)  # the kill falls inside the crawl, however slow the start
        time.sleep(rnd.uniform(0.2, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    s = crawl(cli, "--wait")
    assert s["status"] == "ok" and s["resumed"]
    check_exact(cli, portal.expected_documents())
    consistent(tmp_path)
    verify = subprocess.run([XXGK, "--config", str(cfg), "verify"], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_kill_9_during_reparse_then_verify_is_clean(tmp_path, portal):
    cfg = write_config(tmp_path, portal)
    cfg.write_text(cfg.read_text().replace("[settings]", "[settings]\nlease_seconds = 1"))
    cli = Cli(cfg)
    crawl(cli)
    before = cli.jsonl("ls")
    import random

    rnd = random.Random(9)
    for _ in range(3):
        proc = subprocess.Popen([XXGK, "--config", str(cfg), "-q", "reparse", "--all"])  # writes every version
        time.sleep(rnd.uniform(0.3, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    time.sleep(1.2)  # the dead process's leases lapse
    assert subprocess.run([XXGK, "--config", str(cfg), "-q", "reparse"]).returncode == 0
    assert subprocess.run([XXGK, "--config", str(cfg), "verify"], capture_output=True).returncode == 0
    assert cli.jsonl("ls") == before
    check_exact(cli, portal.expected_documents())


def test_a_journal_removed_by_its_own_run_meanwhile_is_no_error(tmp_path, db_url):
    """Two processes mend journals at once (a fleet): one run's journal vanishes between the listing
    and the reading; the other's blobs are still adopted."""
    from storage.journal import adopt, recover

    engine, store = open_database(db_url), open_archive(str(tmp_path / "archive"))
    assert adopt(engine, store, tmp_path / "journal" / "run-99.journal") == 0
    put = store.put(b"<html>left without rows</html>" * 50)
    (tmp_path / "journal").mkdir()
    (tmp_path / "journal" / "run-98.journal").write_text(put.sha256 + "\n")
    assert recover(engine, store, tmp_path / "journal") == 1
    with read_session(engine) as s:
        blob = s.get(Blob, put.sha256)
    assert (blob.size, blob.stored_size) == (put.size, put.stored_size), "sizes as a crawl records them"
    assert not list((tmp_path / "journal").iterdir())


def test_a_run_that_cannot_write_its_journal_fails_saying_why(cli, tmp_path):
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "journal").write_text("a file where the journal folder goes")
    summary = crawl(cli, code=1)
    assert summary["status"] == "failed" and "cannot write the run journal" in problems(summary)
    assert cli.jsonl("runs", "kaihua")[0]["status"] == "failed", "not left 'running'"
