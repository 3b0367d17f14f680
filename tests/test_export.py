"""`xxgk export` on a crawled simulator archive (SQLite and PostgreSQL): JSONL and CSV with the
contract's keys, WARC 1.1 accepted by warcio's own checker and indexer and replaying the archived bytes."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from archive_helpers import engine_of, store_of
from helpers import Cli, write_config
from sqlmodel import select
from warcio.archiveiterator import ArchiveIterator

from storage.captures import archive_response
from storage.contract import document_keys
from storage.db import read_session, session
from storage.export import NESTED
from storage.models import Capture, Source

WARCIO = shutil.which("warcio") or str(Path(sys.executable).with_name("warcio"))


@pytest.fixture
def archive(crawled):
    return crawled


def jsonl(cli, *args) -> list[dict]:
    out = cli("export", "--format", "jsonl", *args).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_jsonl_has_the_contract_keys_and_every_document(archive):
    cli = archive
    rows = jsonl(cli)
    assert len(rows) == len(cli.jsonl("ls")) > 100
    assert all(tuple(r) == (*document_keys(), "files_text") for r in rows)
    assert len({r["url"] for r in rows}) == len(rows)
    for r in rows[::17]:
        files = r.pop("files_text")
        assert [(f["name"], f["sha256"]) for f in files] == [(a["name"], a["sha256"]) for a in r["attachments"]]
        assert r == json.loads(cli("show", r["index_no"] or r["url"], "--json").stdout)
    since = jsonl(cli, "--since", "2025-01-01")
    assert {r["url"] for r in since} == {r["url"] for r in rows if (r["publish_date"] or "") >= "2025-01-01"}
    assert 0 < len(since) < len(rows)
    assert len(jsonl(cli, "--source", "kaihua")) == len(rows)
    assert "unknown source 'elsewhere'" in cli("export", "--format", "jsonl", "--source", "elsewhere", code=2).output


def test_csv_round_trips_to_the_jsonl(archive, tmp_path):
    cli = archive
    target = tmp_path / "docs.csv"
    cli("export", "--format", "csv", "-o", str(target))
    assert not list(tmp_path.glob("*.part"))
    rows = list(csv.DictReader(io.StringIO(target.read_text("utf-8"), newline="")))
    assert tuple(rows[0]) == document_keys()
    for got, want in zip(rows, jsonl(cli), strict=True):
        want.pop("files_text", None)
        for key in document_keys():
            if key in NESTED:
                assert json.loads(got[key]) == want[key]
            else:
                assert got[key] == ("" if want[key] is None else str(want[key])), key


def test_warc_passes_warcio_check_and_index_and_replays_the_archive(archive, tmp_path):
    cli = archive
    target = tmp_path / "crawl.warc.gz"
    cli("export", "--format", "warc", "-o", str(target))
    check = subprocess.run([WARCIO, "check", "-v", str(target)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout and "fail" not in check.stdout.lower()
    index = subprocess.run(
        [WARCIO, "index", "-f", "warc-type,warc-target-uri,http:status", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    entries = [json.loads(line) for line in index.stdout.splitlines()]
    engine, store = engine_of(cli), store_of(cli)
    with read_session(engine) as s:
        caps = {c.id: c for c in s.exec(select(Capture))}
    assert entries[0]["warc-type"] == "warcinfo"
    assert sum(e["warc-type"] == "response" for e in entries) == len(caps)
    assert sum(e["warc-type"] == "request" for e in entries) == len(caps)

    by_url: dict[str, list] = {}
    for c in caps.values():
        by_url.setdefault(c.url, []).append(c)
    responses, posts = {}, 0
    with open(target, "rb") as fh:
        for rec in ArchiveIterator(fh):
            kind = rec.rec_headers.get_header("WARC-Type")
            if kind == "response":
                body = rec.content_stream().read()
                url = rec.rec_headers.get_header("WARC-Target-URI")
                assert any(
                    store.get(c.sha256) == body and int(rec.http_headers.get_statuscode()) == c.status
                    for c in by_url[url]
                ), url
                assert rec.http_headers.get_header("Content-Length") == str(len(body))
                responses[rec.rec_headers.get_header("WARC-Record-ID")] = url
                assert rec.rec_headers.get_header("WARC-Date").endswith("Z")
            elif kind == "request":
                assert responses[rec.rec_headers.get_header("WARC-Concurrent-To")] == rec.rec_headers.get_header(
                    "WARC-Target-URI"
                )
                if rec.http_headers.protocol == "POST":
                    posts += 1
                    body = rec.content_stream().read()
                    assert any(c.request_body == body for c in by_url[rec.rec_headers.get_header("WARC-Target-URI")])
    assert len(responses) == len(caps)
    assert posts == sum(c.method == "POST" for c in caps.values()) > 0


def test_warc_filters_and_plain_output(archive, tmp_path):
    cli = archive
    plain = tmp_path / "crawl.warc"
    cli("export", "--format", "warc", "--source", "kaihua", "-o", str(plain))
    assert plain.read_bytes().startswith(b"WARC/1.1\r\n")
    empty = tmp_path / "none.warc"
    cli("export", "--format", "warc", "--since", "2999-01-01", "-o", str(empty))
    with open(empty, "rb") as fh:
        assert [r.rec_headers.get_header("WARC-Type") for r in ArchiveIterator(fh)] == ["warcinfo"]


def test_warc_response_headers_describe_the_decoded_body(tmp_path, portal):
    """A gzip, chunked response is archived decoded: its record drops those encodings and says so."""
    cli = Cli(write_config(tmp_path, portal))
    engine, store = engine_of(cli), store_of(cli)  # opening the database creates it
    body = "<html>政府信息公开</html>".encode()
    with session(engine) as s:
        s.add(Source(name="kaihua"))
        s.flush()
        archive_response(
            s,
            store,
            url="http://h.example/a?x=1",
            status=200,
            body=body,
            source_id=1,
            headers=[
                ("content-type", "text/html; charset=utf-8"),
                ("content-encoding", "gzip"),
                ("transfer-encoding", "chunked"),
                ("content-length", "17"),
            ],
            request_headers=[("host", "h.example"), ("user-agent", "xxgk")],
        )
        s.commit()
    target = tmp_path / "one.warc.gz"
    cli("export", "--format", "warc", "-o", str(target))
    assert subprocess.run([WARCIO, "check", str(target)], timeout=60).returncode == 0
    with open(target, "rb") as fh:
        recs = [(r.rec_type, r.http_headers, r.content_stream().read()) for r in ArchiveIterator(fh)]
    (_, resp, payload), (_, req, _) = recs[1], recs[2]
    assert payload == body
    assert resp.get_header("Content-Encoding") is None and resp.get_header("Transfer-Encoding") is None
    assert resp.get_header("Content-Length") == str(len(body))
    assert resp.get_header("X-Archive-Orig-content-encoding") == "gzip"
    assert resp.get_header("X-Archive-Orig-content-length") == "17"
    assert req.protocol == "GET" and req.statusline == "/a?x=1 HTTP/1.1"
