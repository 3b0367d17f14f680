"""Attachments: downloaded under their own size cap, archived content-addressed, listed on the document
version with name, URL, sha256 and size (`xxgk show`); a replaced file makes a new version; a passing
failure keeps the archived copy; hostile names stay text and never touch the filesystem."""

from __future__ import annotations

import hashlib
import json
import re

import httpx
import pytest
from helpers import Cli, db_of, path_regex, write_config
from sqlmodel import select

from simulator import PortalSimulator
from storage.archive import open_archive
from storage.db import open_database, read_session
from storage.models import Capture
from storage.queries import document_json, list_documents

pytestmark = pytest.mark.usefixtures("db_url")  # every test here runs on each database


@pytest.fixture
def sim():
    with PortalSimulator(seed=7, docs=40) as s:
        yield s


def configured(tmp_path, sim, settings: str = "", **source) -> Cli:
    path = write_config(tmp_path, sim, **source)
    path.write_text(path.read_text().replace('data_dir = "data"', f'data_dir = "data"\n{settings}'))
    return Cli(path)


def key(doc: dict) -> str:
    return doc["index_no"] or doc["urls"][0]


def show(cli, doc: dict, *args) -> dict:
    return json.loads(cli("show", key(doc), "--json", *args).stdout)


def files_by_url(tmp_path) -> dict[str, dict]:
    """Every archived document's attachments, as `xxgk show --json` prints them, by URL (one session)."""
    with read_session(open_database(db_of(tmp_path))) as s:
        return {a["url"]: a for d in list_documents(s) for a in document_json(s, d)["attachments"]}


def captures(tmp_path, kind: str) -> list[Capture]:
    with read_session(open_database(db_of(tmp_path))) as s:
        return list(s.exec(select(Capture).where(Capture.kind == kind)))


def test_archived_listed_and_shown(tmp_path, sim):
    cli = configured(tmp_path, sim)
    summary = cli.jsonl("crawl", "kaihua")[0]
    with_files = [d for d in sim.expected_documents() if d["attachments"]]
    urls = {a["url"] for d in with_files for a in d["attachments"]}
    assert with_files and summary["attachments"] == len(urls) and summary["attachment_errors"] == 0
    store = open_archive(f"file://{tmp_path}/data/archive")
    for doc in with_files:
        got = show(cli, doc)["attachments"]
        assert got == doc["attachments"]
        for att in got:
            served = httpx.get(att["url"]).content
            assert store.get(att["sha256"]) == served and hashlib.sha256(served).hexdigest() == att["sha256"]
    assert {c.url for c in captures(tmp_path, "attachment")} == urls
    text = cli("show", key(with_files[0])).stdout
    first = with_files[0]["attachments"][0]
    assert first["sha256"] in text and f"{first['size']} bytes" in text and first["name"] in text


def test_hostile_names_are_only_text(tmp_path, sim):
    cli = configured(tmp_path, sim)
    cli("crawl", "kaihua")
    hostile = [(d, a) for d in sim.expected_documents() for a in d["attachments"] if a["name"].startswith("../")]
    assert hostile
    for doc, att in hostile:
        assert att in show(cli, doc)["attachments"]  # stored verbatim, with its hash
        assert att["name"] in cli("show", key(doc)).stdout
    stored = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert all("escape" not in str(p) and ".." not in p.name for p in stored)
    blobs = [p for p in (tmp_path / "data" / "archive").rglob("*") if p.is_file()]
    assert blobs and all(re.fullmatch(r"[0-9a-f]{64}\.zst", p.name) for p in blobs)
    assert not (tmp_path.parent / "xxgk-escape").exists() and not list(tmp_path.rglob("*xxgk-escape*"))


def test_a_replaced_file_makes_a_new_version(tmp_path, sim):
    cli = configured(tmp_path, sim)
    cli("crawl", "kaihua")
    sim.set_day(2)
    summary = cli.jsonl("crawl", "kaihua", "--full")[0]
    replaced = [d for d in sim.expected_documents(2) if d["attachment_replaced"]]
    assert replaced and summary["status"] == "ok"
    store = open_archive(f"file://{tmp_path}/data/archive")
    for doc in replaced:
        now, before = show(cli, doc), show(cli, doc, "--version", "1")
        assert now["version"] == 2 and now["attachments"] == doc["attachments"]
        assert now["title"] == before["title"] and now["body_text"] == before["body_text"]
        assert now["attachments"][0]["url"] == before["attachments"][0]["url"]
        assert now["attachments"][0]["sha256"] != before["attachments"][0]["sha256"]
        assert store.get(before["attachments"][0]["sha256"])  # the old file is kept


def test_size_cap_and_passing_failures_make_no_new_versions(tmp_path, sim):
    cli = configured(tmp_path, sim, settings="max_attachment_bytes = 4000")
    summary = cli.jsonl("crawl", "kaihua")[0]
    expected = [a for d in sim.expected_documents() for a in d["attachments"]]
    big = {a["url"] for a in expected if a["size"] > 4000}
    assert big and summary["status"] == "ok" and summary["attachment_errors"] == len(big)
    assert any("over the 4000-byte cap" in p for p in summary["problems"])
    stored = files_by_url(tmp_path)
    assert set(stored) == {a["url"] for a in expected}
    assert all((att["sha256"] is None) == (url in big) for url, att in stored.items())
    again = cli.jsonl("crawl", "kaihua", "--full")[0]
    assert again["changed"] == 0 and again["new"] == 0

    sim.inject(r"/module/download/", "status", code=503)  # files unavailable for a while
    failing = cli.jsonl("crawl", "kaihua", "--full")[0]
    assert failing["changed"] == 0 and failing["attachment_errors"] == len({a["url"] for a in expected})
    assert files_by_url(tmp_path) == stored  # the archived copies are kept
    assert {c.error for c in captures(tmp_path, "attachment") if c.status == 503} == {"HTTP 503"}


def test_attachments_can_be_left_alone(tmp_path, sim):
    cli = configured(tmp_path, sim, attachments=False)
    assert cli.jsonl("crawl", "kaihua")[0]["attachments"] == 0
    assert captures(tmp_path, "attachment") == []
    doc = next(d for d in sim.expected_documents() if d["attachments"])
    assert [(a["name"], a["url"], a["sha256"]) for a in show(cli, doc)["attachments"]] == [
        (a["name"], a["url"], None) for a in doc["attachments"]
    ]


@pytest.mark.parametrize("where", ["block", "script"])
def test_files_listed_outside_the_body_are_archived(tmp_path, sim, where):
    """Hanweb's `<div class="xxgk-art-fj"><span>相关附件：</span><ul><li><a href="/module/download/downfile.jsp?…
    filename=<id>.pdf">NAME</a>` block, and a TRS-style `var apps = [{name, url}]` script array: every file is
    downloaded, archived and shown with its sha256."""
    docs = {d.title: d for d in sim.corpus.docs(1).values()}
    placed = [e for e in sim.expected_documents() if e["attachments"] and docs[e["title"]].style["files"] == where]
    assert placed, f"the simulator has no document with files in a {where}"
    cli = configured(tmp_path, sim)
    cli.jsonl("crawl", "kaihua")
    for doc in placed:
        shown = show(cli, doc)
        assert [(a["name"], a["url"], a["sha256"], a["size"]) for a in shown["attachments"]] == [
            (a["name"], a["url"], a["sha256"], a["size"]) for a in doc["attachments"]
        ]
        assert all(re.fullmatch(r"[0-9a-f]{64}", a["sha256"]) for a in shown["attachments"])


def test_a_file_linked_by_an_icon_takes_the_name_its_server_sends(tmp_path, sim):
    """An icon links the file (no text, no download=): the page names it only by its storage id, so the
    archived file takes the name from its own response's `Content-Disposition`, with its sha256."""
    styles = {d.title: d.style["files"] for d in sim.corpus.docs(1).values()}
    doc = next(
        d
        for d in sim.expected_documents()
        if d["attachments"] and styles[d["title"]] != "script" and not d["attachments"][0]["name"].startswith("..")
    )
    sim.inject(path_regex(doc["urls"][0]), "nameless-files")
    page = httpx.get(doc["urls"][0]).text
    texts = re.findall(r"<a [^>]*downfile\.jsp[^>]*>(.*?)</a>", page)
    assert texts and all(t.startswith("<img") for t in texts) and " download=" not in page  # the page names no file
    cli = configured(tmp_path, sim)
    cli.jsonl("crawl", "kaihua")
    shown = show(cli, doc)["attachments"]
    assert [(a["name"], a["url"], a["sha256"], a["size"]) for a in shown] == [
        (a["name"], a["url"], a["sha256"], a["size"]) for a in doc["attachments"]
    ]
