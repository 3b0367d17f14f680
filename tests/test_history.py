"""`xxgk history`, `xxgk diff` and `xxgk show --raw` on a simulator archive crawled on day 1 and day 2."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest
from archive_helpers import engine_of, store_of
from sqlmodel import select

from storage.db import read_session
from storage.models import Capture, DocumentVersion
from storage.queries import find_document

SEED = "113308245972094984/2025-01529"


@pytest.fixture
def archive(crawled):
    return crawled


def edited(cli) -> tuple[list[dict], list[dict]]:
    """(title edits, body-only edits): documents at version 2, told apart by what their history says."""
    titles, bodies = [], []
    for row in cli.jsonl("ls"):
        if row["versions"] == 2:
            entry = cli.jsonl("history", row["index_no"] or row["url"])[1]
            if not entry["body"]["changed"] and not entry["fields_changed"]:
                continue  # only an attachment was replaced (new bytes, same link)
            (bodies if entry["body"]["changed"] and not entry["fields_changed"] else titles).append(row)
    return titles, bodies


def test_history_tells_what_changed(archive):
    cli = archive
    titles, bodies = edited(cli)
    assert titles and bodies
    for row in titles:
        first, second = cli.jsonl("history", row["index_no"] or row["url"])
        assert first["version"] == 1 and first["body"] is None and not first["current"]
        # (times to the second: both days' crawls of 120 documents can fall in one second)
        assert second["current"] and second["seen_at"] >= first["seen_at"] and first["until"] == second["seen_at"]
        changed = {c["field"]: c for c in second["fields_changed"]}
        assert changed["title"]["new"] == row["title"] and changed["title"]["new"].startswith(changed["title"]["old"])
        assert second["body"]["changed"] is False and second["sha256"] != first["sha256"]
    for row in bodies:
        second = cli.jsonl("history", row["index_no"] or row["url"])[1]
        assert second["body"]["lines_added"] >= 1 and second["fields_changed"] == []
    seed = cli.jsonl("history", SEED)
    assert len(seed) == 1 and seed[0]["parser_version"] and seed[0]["reparses"] == []
    out = cli("history", titles[0]["index_no"]).stdout
    assert "first seen" in out and "fields: title" in out


def test_diff_defaults_to_the_last_two_versions(archive):
    cli = archive
    titles, bodies = edited(cli)
    doc = titles[0]
    first = cli.jsonl("history", doc["index_no"])[0]
    old_title = next(
        c["old"] for c in cli.jsonl("history", doc["index_no"])[1]["fields_changed"] if c["field"] == "title"
    )
    out = cli("diff", doc["index_no"]).stdout
    assert f"--- {doc['index_no']} v1" in out and f"+++ {doc['index_no']} v2" in out
    assert f"-title: {old_title}" in out and f"+title: {doc['title']}" in out
    assert cli("diff", doc["index_no"], "1", "2").stdout == out == cli("diff", doc["index_no"], "1").stdout
    assert f"-title: {doc['title']}" in cli("diff", doc["index_no"], "2", "1").stdout
    assert "identical" in cli("diff", doc["index_no"], "2", "2").stdout
    body_doc = bodies[0]["index_no"] or bodies[0]["url"]
    body_diff = [
        line
        for line in cli("diff", body_doc).stdout.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    assert body_diff and not any(line.startswith("+title") for line in body_diff)
    assert first["version"] == 1


def test_diff_and_history_errors(archive):
    cli = archive
    assert "one version" in cli("diff", SEED).stdout
    assert "versions 1..1, not 3" in cli("diff", SEED, "1", "3", code=1).output
    assert "no document" in cli("history", "nope/0000", code=1).output
    assert "no document" in cli("diff", "nope/0000", code=1).output


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _xxgk(cli, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "--config", str(cli.config), *args], capture_output=True, timeout=60
    )


def test_show_raw_writes_the_archived_bytes_to_a_pipe(archive):
    cli = archive
    engine, store = engine_of(cli), store_of(cli)
    titles, _ = edited(cli)
    with read_session(engine) as s:
        gbk = next(
            c
            for c in s.exec(select(Capture).where(Capture.kind == "article", Capture.status == 200))
            if not _utf8(store.get(c.sha256))
        )
        doc = find_document(s, titles[0]["index_no"])
        v1 = s.exec(
            select(DocumentVersion).where(DocumentVersion.document_id == doc.id, DocumentVersion.version == 1)
        ).one()
        v1_sha = s.get(Capture, v1.capture_id).sha256
        gbk_doc = s.exec(select(DocumentVersion).where(DocumentVersion.capture_id == gbk.id)).first()
        gbk_key = find_document(s, gbk.url).doc_key if gbk_doc else None
    assert gbk is not None and gbk_key, "the simulator serves some pages in GBK"
    raw = _xxgk(cli, "show", gbk_key, "--raw")
    assert raw.returncode == 0 and raw.stdout == store.get(gbk.sha256)
    assert hashlib.sha256(raw.stdout).hexdigest() == gbk.sha256
    with pytest.raises(UnicodeDecodeError):
        raw.stdout.decode("utf-8")  # GBK bytes, not re-encoded on the way out
    old = cli("show", titles[0]["index_no"], "--raw", "--version", "1").stdout_bytes
    assert hashlib.sha256(old).hexdigest() == v1_sha
    assert cli("show", titles[0]["index_no"], "--raw").stdout_bytes not in (old, b"")
    head = subprocess.run(
        f"{sys.executable} -m cli.main --config {cli.config} show {gbk_key} --raw | head -c 10",
        shell=True,
        capture_output=True,
        timeout=60,
    )
    assert len(head.stdout) == 10 and b"Traceback" not in head.stderr and b"Error" not in head.stderr
    assert "not 9" in cli("show", SEED, "--raw", "--version", "9", code=1).output


def test_diff_colours_lines_and_marks_the_changed_characters():
    from cli.versions_cmd import _styled_diff

    lines = ["--- K v1", "+++ K v2", "@@ -1 +1 @@", " index_no: K", "-title: 关于甲的通知", "+title: 关于乙的通知"]
    styled = _styled_diff(lines)
    assert [t.style for t in styled] == ["bold", "bold", "cyan", "", "red", "green"]
    old, new = styled[4], styled[5]
    marked_old = [old.plain[s.start : s.end] for s in old.spans if "reverse" in str(s.style)]
    marked_new = [new.plain[s.start : s.end] for s in new.spans if "reverse" in str(s.style)]
    assert marked_old == ["甲"] and marked_new == ["乙"]


def test_a_file_replaced_at_the_same_url_and_name_shows_in_history_and_diff(archive):
    cli = archive
    replaced = []
    for row in cli.jsonl("ls"):
        if row["versions"] == 2:
            entries = cli.jsonl("history", row["index_no"] or row["url"])
            replaced += [(row, entries, r) for r in entries[1]["attachments_replaced"]]
    assert replaced, "day 2 of the simulator replaces some files in place"
    row, entries, r = replaced[0]
    ident = row["index_no"] or row["url"]
    old, new = (json.loads(cli("show", ident, "--json", "--version", str(n)).stdout) for n in (1, 2))
    before = next(a for a in old["attachments"] if a["url"] == r["url"])
    after = next(a for a in new["attachments"] if a["url"] == r["url"])
    assert before["name"] == after["name"] == r["name"]
    assert (r["old_sha256"], r["old_size"]) == (before["sha256"], before["size"])
    assert (r["new_sha256"], r["new_size"]) == (after["sha256"], after["size"])
    assert r["old_sha256"] != r["new_sha256"] and entries[0]["attachments_replaced"] == []
    human = cli("history", ident).stdout
    assert f"attachment replaced: {r['name']}" in human and "no content change" not in human
    for value in (r["url"], r["old_sha256"], r["new_sha256"], f"{r['old_size']:,} B", f"{r['new_size']:,} B"):
        assert value in human
    diff = cli("diff", ident).stdout
    assert "identical" not in diff
    assert f"-attachment: {r['name']} <{r['url']}> sha256 {r['old_sha256']} ({r['old_size']:,} B)" in diff
    assert f"+attachment: {r['name']} <{r['url']}> sha256 {r['new_sha256']} ({r['new_size']:,} B)" in diff
