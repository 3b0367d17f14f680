"""Every CMS family end to end: a simulated portal of the family, crawled over real HTTP with the family
left out of the config (detected from the first column page), every contract field of every document
exact against the simulator's ground truth, attachments archived with their sha256 and size, on day 1,
day 2 (adds, edits, replaced files, deletions; a full crawl) and day 3 (no change: lists only)."""
from __future__ import annotations

import pytest

from helpers import Cli, write_config
from simulator import PortalSimulator
from test_crawl_e2e import check_exact

FAMILIES = ["hanweb-xxgk", "hanweb-jpaas", "trs-static", "govcn", "gkmlpt", "generic"]


@pytest.mark.parametrize("family", FAMILIES)
def test_family_crawls_exactly(tmp_path, family):
    with PortalSimulator(seed=11, docs=30, family=family) as sim:
        cli = Cli(write_config(tmp_path, sim, family=None))
        first = cli.jsonl("crawl", "kaihua")[0]
        assert first["status"] == "ok" and first["family"] == family, first
        docs = check_exact(cli, sim.expected_documents(1))
        assert any(d["attachments"] for d in docs.values())
        assert first["attachments"] == len({a["url"] for d in docs.values() for a in d["attachments"]})
        assert cli.jsonl("sources")[0]["family"] == family            # remembered for later runs

        sim.set_day(2)
        summary = cli.jsonl("crawl", "kaihua", "--full")[0]
        assert summary["status"] == "ok", summary
        expected = sim.expected_documents(2)
        docs = check_exact(cli, expected)
        for exp in expected:
            key = exp["index_no"] or sorted(exp["urls"])[0]
            assert docs[key]["version"] == (2 if exp["edited_on_day"] == 2 else 1), key
        assert any(e["attachment_replaced"] for e in expected)
        assert summary["changed"] == sum(1 for e in expected if e["edited_on_day"] == 2)
        assert summary["new"] == sum(1 for e in expected if e["added_on_day"] == 2)
        assert summary["withdrawn"] == len(sim.deleted_documents(2))

        sim.set_day(3)
        sim.reset_requests()
        summary = cli.jsonl("crawl", "kaihua")[0]
        assert summary["status"] == "ok" and summary["new"] == summary["changed"] == summary["fetched"] == 0
        assert not [r.path for r in sim.requests if r.path in {u[len(sim.base_url):] for e in expected
                                                                 for u in e["urls"]}], "an unchanged document was fetched"
