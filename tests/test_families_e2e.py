"""Every CMS family end to end: a simulated portal of the family, crawled over real HTTP with the family
left out of the config (detected from the first column page), every contract field of every document
exact against the simulator's ground truth, attachments archived with their sha256 and size, on day 1,
day 2 (adds, edits, replaced files, deletions; a full crawl) and day 3 (no change: lists only).

The documents are read back as `xxgk show --json` prints them (storage.queries.document_json), in one
session: the CLI itself is exercised by test_crawl_e2e."""

from __future__ import annotations

import pytest
from helpers import CONTRACT, Cli, db_of, write_config
from test_crawl_e2e import check_day2

from simulator import PortalSimulator
from simulator.families import FAMILIES as SIMULATED
from storage.db import open_database, read_session
from storage.queries import document_json, list_documents

pytestmark = pytest.mark.usefixtures("db_url")  # every test here runs on each database


def check_exact(cli, expected: list[dict]) -> dict[str, dict]:
    engine = open_database(db_of(cli.config.parent))
    with read_session(engine) as s:
        docs = [document_json(s, d) for d in list_documents(s)]
    engine.dispose()
    by_url = {u: d for d in docs for u in d["urls"]}
    got = {}
    for exp in expected:
        key = exp["index_no"] or sorted(exp["urls"])[0]
        doc = by_url.get(sorted(exp["urls"])[0])
        assert doc is not None, f"missing document {key}"
        for field in CONTRACT:
            assert doc[field] == exp[field], f"{key}: {field}: {doc[field]!r} != {exp[field]!r}"
        assert sorted(doc["urls"]) == sorted(exp["urls"]) and doc["attachments"] == exp["attachments"], key
        got[key] = doc
    assert len([d for d in docs if d["withdrawn_at"] is None]) == len(expected), "documents the portal does not have"
    return got


FAMILIES = sorted(set(SIMULATED) - {"hanweb-jpage"})  # hanweb-jpage: tests/test_crawl_e2e.py


@pytest.mark.parametrize("family", FAMILIES)
def test_family_crawls_exactly(tmp_path, family):
    with PortalSimulator(seed=11, docs=30, family=family) as sim:
        cli = Cli(write_config(tmp_path, sim, family=None))
        first = cli.jsonl("crawl", "kaihua")[0]
        assert first["status"] == "ok" and first["family"] == family, first
        docs = check_exact(cli, sim.expected_documents(1))
        assert any(d["attachments"] for d in docs.values())
        assert first["attachments"] == len({a["url"] for d in docs.values() for a in d["attachments"]})
        assert cli.jsonl("sources")[0]["family"] == family  # remembered for later runs

        sim.set_day(2)
        summary = cli.jsonl("crawl", "kaihua", "--full")[0]
        assert summary["status"] == "ok", summary
        expected = sim.expected_documents(2)
        check_day2(summary, expected, check_exact(cli, expected))
        assert any(e["attachment_replaced"] for e in expected)
        assert summary["withdrawn"] == len(sim.deleted_documents(2))

        sim.set_day(3)
        sim.reset_requests()
        summary = cli.jsonl("crawl", "kaihua")[0]
        assert summary["status"] == "ok" and summary["new"] == summary["changed"] == summary["fetched"] == 0
        assert not [
            r.path for r in sim.requests if r.path in {u[len(sim.base_url) :] for e in expected for u in e["urls"]}
        ], "an unchanged document was fetched"


@pytest.mark.parametrize(
    "family,lists", [("hanweb-xxgk", r"^/col/"), ("hanweb-jpaas", r"/build/unit"), ("trs-static", r"/index")]
)
def test_a_redesigned_list_is_a_layout_change(tmp_path, family, lists):
    with PortalSimulator(seed=11, docs=20, family=family) as sim:
        cli = Cli(write_config(tmp_path, sim, family=family))
        assert cli.jsonl("crawl", "kaihua")[0]["health"] == "OK"
        sim.inject(lists, "layout")
        summary = cli.jsonl("crawl", "kaihua", code=1)[0]
        assert summary["health"] == "LAYOUT_CHANGED" and summary["layout_problems"] == len(sim.column_urls)
