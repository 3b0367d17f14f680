"""`xxgk verify` on a crawled simulator archive: clean, then a flipped byte, a truncated blob, a deleted
blob, an orphan blob and a row pointing nowhere, each named; read-only throughout."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3

import pytest
from archive_helpers import crawled_cli, database_url, engine_of, store_of
from helpers import Cli
from sqlmodel import select

from simulator import PortalSimulator
from storage.db import read_session
from storage.models import Blob, Capture

COUNTED = ("documents", "document_versions", "captures", "blobs", "search_text", "document_reparses")


def counts(cli) -> dict:
    db = sqlite3.connect(database_url(cli).removeprefix("sqlite:///"))
    try:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}
    finally:
        db.close()


def article_blobs(cli, n: int) -> list[str]:
    with read_session(engine_of(cli)) as s:
        shas = s.exec(
            select(Capture.sha256).where(Capture.kind == "article", Capture.status == 200).order_by(Capture.id)
        ).all()
    return list(dict.fromkeys(shas))[:n]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    with PortalSimulator(seed=7, docs=120) as sim:
        return crawled_cli(tmp_path_factory.mktemp("verify-template"), sim, days=1).config.parent


@pytest.fixture
def archive(template, tmp_path):
    """A copy of one crawled archive per test (each test breaks it its own way)."""
    shutil.copytree(template, tmp_path / "a")
    return Cli(tmp_path / "a" / "xxgk.toml")


def test_a_clean_archive_verifies(archive):
    cli = archive
    report = json.loads(cli("verify", "--json").stdout)
    with read_session(engine_of(cli)) as s:
        blobs = len(s.exec(select(Blob)).all())
    assert report["ok"] is True and report["faults"] == [] and report["blobs_checked"] == blobs > 100
    assert report["files_checked"] == blobs and report["bytes_checked"] > 0
    assert "ok:" in cli("verify").stdout


def test_flipped_truncated_and_deleted_blobs_are_each_named(archive):
    cli = archive
    store = store_of(cli)
    flipped, truncated, deleted = article_blobs(cli, 3)
    path = store.path(flipped)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))
    path = store.path(truncated)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    store.path(deleted).unlink()

    before = counts(cli)
    result = cli("verify", "--json", code=1)
    report = json.loads(result.stdout)
    kinds = {f["sha256"]: f["kind"] for f in report["faults"]}
    assert kinds == {flipped: "corrupt_blob", truncated: "truncated_blob", deleted: "missing_blob"}
    assert report["fault_counts"] == {"corrupt_blob": 1, "truncated_blob": 1, "missing_blob": 1}
    assert all(f["used_by"] and f["used_by"][0].startswith("capture ") for f in report["faults"])
    text = cli("verify", code=1).stdout
    for sha, word in ((flipped, "corrupt blob"), (truncated, "truncated blob"), (deleted, "missing blob")):
        assert f"{word} {sha}" in text
    assert "3 faults" in text
    assert counts(cli) == before  # read-only


def test_orphans_and_rows_pointing_nowhere(archive):
    cli = archive
    store = store_of(cli)
    orphan = store.put(b"bytes no row refers to").sha256
    victim = article_blobs(cli, 1)[0]
    db = sqlite3.connect(database_url(cli).removeprefix("sqlite:///"))
    db.execute("PRAGMA foreign_keys=OFF")
    db.execute("DELETE FROM blobs WHERE sha256 = ?", (victim,))  # captures now point nowhere
    db.execute("UPDATE document_versions SET capture_id = 999999 WHERE id = 1")
    db.commit()
    db.close()
    report = json.loads(cli("verify", "--json", code=1).stdout)
    faults = report["faults"]
    orphans = {f["sha256"] for f in faults if f["kind"] == "orphan_blob"}
    assert orphans == {orphan, victim}  # the victim's file is now unknown to the database
    dangling = [f for f in faults if f["kind"] == "dangling_row"]
    assert {(f["table"], f["detail"].split(" (")[0]) for f in dangling} == {
        ("captures", "capture without its blob row"),
        ("document_versions", "version without its capture"),
    }
    assert any(f["row_id"] == 1 and "999999" in f["detail"] for f in dangling)


def test_verify_reads_a_read_only_archive(archive):
    cli = archive
    root = store_of(cli).root
    modes = []
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o444)
        modes.append(dirpath)
    for d in modes:
        os.chmod(d, 0o555)
    try:
        assert json.loads(cli("verify", "--json").stdout)["ok"] is True
    finally:
        for d in modes:
            os.chmod(d, 0o755)
