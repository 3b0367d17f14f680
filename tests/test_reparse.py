"""`xxgk reparse` on a crawled simulator archive: a better parser is recorded as a re-parse of the same
version (parser version noted, previous parse kept), never as a publisher's edit — by `reparse`, and
by a crawl that meets the new parser first. Pages that failed before can become documents."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from archive_helpers import crawled_cli, documents, engine_of, store_of
from sqlalchemy import func
from sqlmodel import select

from scraper import process
from scraper.parse import ParseError
from scraper.reparse import reparse_archive, source_ids
from storage.db import read_session
from storage.leases import acquire
from storage.models import Attachment, Capture, DocumentReparse, DocumentVersion, Source

OLD = process.PARSER_VERSION
NEXT = str(int(OLD) + 1)  # "the next parser", whatever today's version is


def better_parser(monkeypatch, fail_on: tuple[str, ...] = ()) -> None:
    """Parser 2: reads full-width commas in the body as ASCII ones and files topics differently."""
    real = process.parse_article

    def parse(data, url, content_type=None):
        if url.endswith(fail_on) and fail_on:
            raise ParseError("parser 2 cannot read this page", url)
        art = real(data, url, content_type)
        art.body_text = art.body_text.replace("，", ",")
        art.topic = f"{art.topic or ''}/v2"
        return art

    monkeypatch.setattr(process, "parse_article", parse)
    monkeypatch.setattr(process, "PARSER_VERSION", NEXT)


def version_map(cli) -> dict[str, int]:
    return {r["url"]: r["versions"] for r in cli.jsonl("ls")}


def count(cli, model) -> int:
    with read_session(engine_of(cli)) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def reparse(cli, *args, code=0) -> dict:
    return json.loads(cli("reparse", "--json", *args, code=code).stdout)


@pytest.fixture(params=["sqlite", "postgresql"])
def archive(request, tmp_path, portal):
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    return crawled_cli(tmp_path, portal, database_url=url)


def test_same_parser_changes_nothing(tmp_path, portal):
    cli = crawled_cli(tmp_path, portal, days=1)
    before = documents(cli)
    summary = reparse(cli, "--all")  # every page parsed again and joined as the crawl joined it
    assert summary["versions"] == count(cli, DocumentVersion) and summary["unchanged"] == summary["versions"]
    assert summary["reparsed"] == summary["errors"] == summary["recovered"] == summary["already_current"] == 0
    assert count(cli, DocumentReparse) == 0 and documents(cli) == before
    # Without --all, the versions this parser already read are not parsed again.
    summary = reparse(cli)
    assert summary["already_current"] == summary["unchanged"] == summary["versions"] == count(cli, DocumentVersion)
    assert summary["reparsed"] == 0 and documents(cli) == before


def _files(cli) -> list[tuple]:
    """Every version's attachment rows: (version id, url, sha256, size)."""
    with read_session(engine_of(cli)) as s:
        return [
            tuple(f)
            for f in s.exec(
                select(Attachment.version_id, Attachment.url, Attachment.sha256, Attachment.size).order_by(
                    Attachment.id
                )
            ).all()
        ]


def _versions_and_files(cli) -> list[tuple]:
    with read_session(engine_of(cli)) as s:
        vers = s.exec(select(DocumentVersion).order_by(DocumentVersion.id)).all()
        return [(v.id, v.content_hash, v.record, v.body_text) for v in vers] + _files(cli)


def test_a_reparse_keeps_each_version_with_its_own_files(archive):
    """Day 2 replaced files at the same URL and name: re-parsing version 1 must not take version 2's file."""
    cli = archive
    before = _versions_and_files(cli)
    summary = reparse(cli, "--all")
    assert summary["reparsed"] == 0 and summary["unchanged"] == summary["versions"] == count(cli, DocumentVersion)
    assert count(cli, DocumentReparse) == 0 and _versions_and_files(cli) == before
    replaced = [
        (row, r)
        for row in cli.jsonl("ls")
        if row["versions"] == 2
        for r in cli.jsonl("history", row["index_no"] or row["url"])[1]["attachments_replaced"]
    ]
    assert replaced
    for row, r in replaced:
        v1 = json.loads(cli("show", row["index_no"] or row["url"], "--json", "--version", "1").stdout)
        assert (r["old_sha256"], r["old_size"]) in {(a["sha256"], a["size"]) for a in v1["attachments"]}


def test_a_better_parser_is_a_reparse_of_the_same_version(archive, portal, monkeypatch):
    cli = archive
    versions_before, total = version_map(cli), count(cli, DocumentVersion)
    old, files = {d["url"]: d for d in documents(cli)}, _files(cli)
    better_parser(monkeypatch)
    summary = reparse(cli, "--source", "kaihua")
    assert _files(cli) == files  # each version keeps its own files
    with read_session(engine_of(cli)) as s:
        for ver in s.exec(select(DocumentVersion)):
            recorded = {(a["url"], a["sha256"], a["size"]) for a in ver.record["attachments"]}
            assert recorded == {f[1:] for f in files if f[0] == ver.id}, ver.id
    assert summary["parser_version"] == NEXT and summary["reparsed"] == summary["versions"] == total
    assert summary["errors"] == 0
    assert version_map(cli) == versions_before and count(cli, DocumentVersion) == total
    assert count(cli, DocumentReparse) == total

    new = {d["url"]: d for d in documents(cli)}
    for url, doc in new.items():
        assert doc["body_text"] == old[url]["body_text"].replace("，", ",")
        assert doc["topic"].endswith("/v2") and doc["version"] == old[url]["version"]
    edited = next(u for u, n in versions_before.items() if n == 2)
    hist = cli.jsonl("history", new[edited]["index_no"] or edited)
    assert [h["parser_version"] for h in hist] == [NEXT, NEXT]
    assert all(h["reparses"][0]["from_parser"] == OLD and h["reparses"][0]["to_parser"] == NEXT for h in hist)
    with read_session(engine_of(cli)) as s:
        kept = s.exec(select(DocumentReparse)).first()
        assert kept.previous_parser_version == OLD and "，" in kept.previous_body_text

    # The search index follows the re-parse.
    hits = {r["url"] for r in cli.jsonl("search", "年,", "--limit", "100000")}
    assert hits == {u for u, d in new.items() if "年," in d["body_text"] or "年," in (d["title"] or "")} != set()

    # Idempotent, and the next crawl of the unchanged portal makes no version.
    assert reparse(cli)["reparsed"] == 0
    run = json.loads(cli("crawl", "kaihua", "--full", "--json").stdout)
    assert run["changed"] == 0 and run["new"] == 0 and run["errors"] == 0
    assert version_map(cli) == versions_before


def test_a_crawl_that_meets_a_new_parser_first_reparses_instead_of_versioning(tmp_path, portal, monkeypatch):
    cli = crawled_cli(tmp_path, portal, days=1)
    versions_before = version_map(cli)
    better_parser(monkeypatch)
    run = json.loads(cli("crawl", "kaihua", "--full", "--json").stdout)
    assert run["changed"] == 0 and run["new"] == 0 and run["unchanged"] > 100
    assert version_map(cli) == versions_before
    live = [d for d in documents(cli) if d["withdrawn_at"] is None]
    assert count(cli, DocumentReparse) == len(live)  # each current version, re-parsed once
    assert all(d["topic"].endswith("/v2") for d in live)


def test_pages_the_new_parser_cannot_read_keep_their_parse(tmp_path, portal, monkeypatch):
    cli = crawled_cli(tmp_path, portal, days=1)
    target = cli.jsonl("ls")[3]
    better_parser(monkeypatch, fail_on=(target["url"],))
    result = cli("reparse", code=1)
    assert "parser 2 cannot read this page" in result.output and (target["index_no"] or target["url"]) in result.output
    still = json.loads(cli("show", target["index_no"] or target["url"], "--json").stdout)
    assert not (still["topic"] or "").endswith("/v2")


def test_worker_processes_parse_as_this_process_does(archive, monkeypatch):
    """Pages parsed in a pool of worker processes (today's parser, its errors) are recorded as here."""
    cli = archive
    target = cli.jsonl("ls")[3]
    better_parser(monkeypatch, fail_on=(target["url"],))
    engine, failing = engine_of(cli), target["versions"]
    summary = reparse_archive(engine, store_of(cli), source_ids(engine, None), workers=2)
    total = count(cli, DocumentVersion)
    assert summary.versions == total and summary.reparsed == total - failing and summary.errors == failing
    assert "parser 2 cannot read this page" in summary.problems[0]
    assert all(d["topic"].endswith("/v2") for d in documents(cli) if d["url"] != target["url"])
    again = reparse_archive(engine, store_of(cli), source_ids(engine, None), workers=2)
    assert again.already_current == total - failing and again.errors == failing and again.reparsed == 0


def test_pages_that_failed_to_parse_become_documents(tmp_path, portal, monkeypatch):
    broken = [e["urls"][0] for e in portal.expected_documents(1)[5:8]]
    real = process.parse_article

    def buggy(data, url, content_type=None):
        if url in broken:
            raise ParseError("old parser bug", url)
        return real(data, url, content_type)

    monkeypatch.setattr(process, "parse_article", buggy)
    cli = crawled_cli(tmp_path, portal, days=1)
    listed = {r["url"] for r in cli.jsonl("ls")}
    assert not listed & set(broken)
    monkeypatch.setattr(process, "parse_article", real)  # the parser is fixed
    summary = reparse(cli)
    assert summary["recovered"] == 3 and summary["still_failing"] == 0
    now = {r["url"]: r for r in cli.jsonl("ls")}
    assert set(broken) <= set(now) and all(now[u]["versions"] == 1 for u in broken)
    with read_session(engine_of(cli)) as s:
        assert not s.exec(select(Capture).where(Capture.error.like("parse error:%"))).all()
    assert reparse(cli)["recovered"] == 0


def test_reparse_waits_for_no_crawl_and_names_bad_sources(tmp_path, portal):
    cli = crawled_cli(tmp_path, portal, days=1)
    engine = engine_of(cli)
    with read_session(engine) as s:
        source_id = s.exec(select(Source.id)).one()
    assert acquire(engine, source_id, "someone-else", 60) is None
    assert "being crawled by someone-else" in cli("reparse", code=3).output
    assert "unknown source 'nowhere'" in cli("reparse", "--source", "nowhere", code=2).output


def test_parse_workers_end_with_a_killed_reparse(tmp_path):
    """kill -9 of a reparse leaves no parse worker behind (they would wait on its pipe for ever)."""
    script = tmp_path / "pool.py"
    script.write_text(
        "import time\n"
        "from scraper.reparse import _pages_parser\n"
        "with _pages_parser(2, 0) as (parse, _):\n"
        "    list(parse([(b'<html><body><p>x</p></body></html>', 'http://x/', None)] * 4))\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=Path.cwd())
    assert proc.stdout.readline().strip() == "ready"
    workers = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
    assert len(workers) == 2
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{w}").exists() and "Z" not in _state(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(not Path(f"/proc/{w}").exists() or "Z" in _state(w) for w in workers)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
