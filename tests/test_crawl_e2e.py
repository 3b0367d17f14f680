"""The spine end to end: crawl the simulated Hanweb portal over real HTTP into SQLite + a folder.

Day 1, then day 2 (adds, edits, deletes): every document exactly once with every contract field
exact; the two-column document with two URLs; edited documents at version 2, others at 1; deleted
ones withdrawn. Day 3 (no changes): only a handful of requests.
"""

from __future__ import annotations

import hashlib
import json

from helpers import Cli, check_exact, full_doc, write_config
from sqlmodel import select

from storage.db import open_database, read_session
from storage.models import Capture, DocumentVersion

SEED = "113308245972094984/2025-01529"


def check_day2(summary: dict, expected: list[dict], docs: dict[str, dict]) -> None:
    """Edited documents (text or a replaced file) at version 2, the others at 1; the run counted them."""
    for exp in expected:
        key = exp["index_no"] or sorted(exp["urls"])[0]
        assert docs[key]["version"] == (2 if exp["edited_on_day"] == 2 else 1), key
    assert summary["changed"] == sum(1 for e in expected if e["edited_on_day"] == 2)
    assert summary["new"] == sum(1 for e in expected if e["added_on_day"] == 2)


def test_day1_day2_day3(cli, portal):
    # Day 1: an incremental crawl of an empty archive takes everything.
    r = cli("crawl", "kaihua")
    assert "ok" in r.output
    docs = check_exact(cli, portal.expected_documents(1))
    seed = docs[SEED]
    assert seed["title"] == "开化县2024年法治政府建设年度报告"
    assert seed["disclosure"] == "主动公开" and seed["doc_no"] is None and seed["validity"] is None
    assert seed["publish_date"] == "2025-03-05" and seed["publisher"] == "县府办"
    assert seed["body_text"].startswith("2024年，开化县始终坚持以习近平新时代中国特色社会主义思想为指导")
    assert "一、主要做法及成效" in seed["body_text"] and "二、2025年工作思路" in seed["body_text"]
    two = [d for d in docs.values() if len(d["urls"]) == 2]
    assert len(two) == 1, "exactly one document is listed in two columns"
    assert all(d["version"] == 1 for d in docs.values())

    # Day 2: a full crawl sees additions, body-only edits, title edits and deletions.
    portal.set_day(2)
    summary = cli.jsonl("crawl", "kaihua", "--full")[0]
    assert summary["status"] == "ok", summary
    expected = portal.expected_documents(2)
    check_day2(summary, expected, check_exact(cli, expected))
    deleted = portal.deleted_documents(2)
    assert deleted and summary["withdrawn"] == len(deleted)
    for exp in deleted:
        doc = full_doc(cli, exp["index_no"] or exp["urls"][0])
        assert doc["withdrawn_at"] is not None and doc["title"] == exp["title"], "archived copy kept"

    # Day 3: nothing changed; an incremental crawl costs robots.txt + one request per column.
    portal.set_day(3)
    portal.reset_requests()
    summary = cli.jsonl("crawl", "kaihua")[0]
    assert summary["status"] == "ok" and summary["new"] == summary["changed"] == 0
    paths = [r.path for r in portal.requests]
    assert len(portal.requests) == 1 + len(portal.column_urls), paths
    assert summary["requests"] == len(portal.requests)


def test_incremental_day2_finds_new_documents_without_a_full_walk(cli, portal):
    cli("crawl", "kaihua")
    portal.set_day(2)
    portal.reset_requests()
    summary = cli.jsonl("crawl", "kaihua")[0]
    added = [e for e in portal.expected_documents(2) if e["added_on_day"] == 2]
    assert summary["new"] == len(added)
    assert summary["requests"] < 1 + len(portal.column_urls) + len(added) + 40
    have = {r["index_no"] for r in cli.jsonl("ls")}
    assert all(e["index_no"] in have for e in added if e["index_no"])


def test_raw_is_the_archived_bytes_exactly(cli, portal, db_url):
    cli("crawl", "kaihua")
    raw = cli("show", SEED, "--raw").stdout_bytes
    engine = open_database(db_url)
    with read_session(engine) as s:
        ver = s.exec(select(DocumentVersion).order_by(DocumentVersion.id)).all()
        shas = {s.get(Capture, v.capture_id).sha256 for v in ver}
    assert hashlib.sha256(raw).hexdigest() in shas
    assert "开化县2024年法治政府建设年度报告".encode() in raw


def test_crawl_into_an_s3_archive(tmp_path, db_url, s3_url):
    """The archive on S3-compatible storage (a local moto server over HTTP): same crawl, same bytes."""
    from simulator import PortalSimulator
    from storage.archive import open_archive

    with PortalSimulator(seed=3, docs=30) as portal:
        cli = Cli(write_config(tmp_path, portal, settings={"archive_url": s3_url}))
        summary = cli.jsonl("crawl", "kaihua")[0]
        assert summary["status"] == "ok" and summary["new"] == len(portal.expected_documents())
        check_exact(cli, portal.expected_documents())
        raw = cli("show", SEED, "--raw").stdout_bytes
    store = open_archive(s3_url)
    assert store.get(hashlib.sha256(raw).hexdigest()) == raw
    engine = open_database(db_url)
    with read_session(engine) as s:
        shas = {c.sha256 for c in s.exec(select(Capture)).all()}
    assert shas == set(store.iter_hashes()), "every capture's body is in the bucket, and nothing else"
    assert not (tmp_path / "data" / "archive").exists(), "nothing archived locally"
    report = json.loads(cli("verify", "--json").stdout)
    assert report["ok"] and report["blobs_checked"] == len(shas)
    victim = hashlib.sha256(raw).hexdigest()  # damage one object behind the archive's back
    store.client.put_object(Bucket=store.bucket, Key=store.key(victim), Body=b"not zstd")
    store.client.delete_object(Bucket=store.bucket, Key=store.key(sorted(shas - {victim})[0]))
    faults = json.loads(cli("verify", "--json", code=1).stdout)["faults"]
    assert sorted(f["kind"] for f in faults) == ["corrupt_blob", "missing_blob"]
    assert {f["sha256"] for f in faults} == {victim, sorted(shas - {victim})[0]}
