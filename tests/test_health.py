"""Each source health state, produced by a simulator scenario made for it (issue: schedules §6)."""

from __future__ import annotations

import pytest

PAGES = r"^/(col|art|module)/"


def crawl(cli, *args, code=None):
    return cli.jsonl("crawl", "kaihua", *args, code=code)[0]


def health(cli) -> tuple[str, str]:
    row = cli.jsonl("sources")[0]
    return row["health"], row["health_reason"] or ""


def test_ok(cli):
    assert crawl(cli, code=0)["health"] == "OK"
    assert health(cli) == ("OK", "")
    runs = cli.jsonl("runs")
    assert runs[0]["health"] == "OK" and runs[0]["status"] == "ok"


def test_empty(cli, portal):
    portal.inject(PAGES, "empty")
    s = crawl(cli, code=0)
    assert s["listed"] == 0 and s["health"] == "EMPTY"
    assert health(cli) == ("EMPTY", "nothing listed")


def test_empty_where_there_used_to_be_items(cli, portal):
    crawl(cli, code=0)
    portal.inject(PAGES, "empty")
    crawl(cli, code=0)
    state, reason = health(cli)
    assert state == "EMPTY" and "where the last runs listed" in reason


@pytest.mark.parametrize("fault, words", [("challenge", "cookie challenge"), ("wall", "wall"), ("captcha", "captcha")])
def test_blocked(cli, portal, fault, words):
    portal.inject(PAGES, fault)
    s = crawl(cli)
    assert s["health"] == "BLOCKED" and s["blocked"] >= 1 and s["new"] == 0
    state, reason = health(cli)
    assert state == "BLOCKED" and words in reason
    assert cli.jsonl("ls") == [], "a wall is never parsed into a document"


def test_blocked_articles_are_never_documents(cli, portal):
    portal.inject(r"^/art/", "challenge")
    s = crawl(cli, code=1)
    assert s["health"] == "BLOCKED" and s["blocked"] >= 10 and s["new"] == 0
    assert "anti-bot answers in a row" in "\n".join(s["problems"])
    art = [r for r in portal.requests if r.path.startswith("/art/")]
    assert len(art) <= 20 * 3, "a walled source is not hammered (10 in a row, 8 in flight, 3 tries each)"
    assert cli.jsonl("ls") == []


@pytest.mark.one_db  # ~100 s: every article fails 27 times (retries, re-asks, end-of-run passes)
def test_failing_on_consecutive_errors(cli, portal):
    portal.inject(r"^/art/", "status", code=500)
    first = crawl(cli, code=0)
    assert first["status"] == "partial" and first["health"] == "OK"  # one bad run is not yet a trend
    second = crawl(cli, "--full", code=0)
    assert second["health"] == "FAILING"
    state, reason = health(cli)
    assert state == "FAILING" and "errors on 2 consecutive runs" in reason


def test_failing_when_the_run_fails(cli, portal):
    portal.inject(PAGES, "status", code=500)
    assert crawl(cli, code=1)["health"] == "FAILING"


def test_layout_changed_list_pages(cli, portal):
    crawl(cli, code=0)
    portal.inject(r"^/col/", "layout")
    s = crawl(cli)
    assert s["health"] == "LAYOUT_CHANGED" and s["layout_problems"] == len(portal.column_urls)
    assert "no jpage unit" in health(cli)[1]


def test_layout_changed_documents_without_metadata(cli, portal):
    crawl(cli, code=0)
    portal.set_day(2)
    portal.inject(r"^/art/", "no-metadata")
    s = crawl(cli, "--full", code=0)
    assert s["health"] == "LAYOUT_CHANGED"
    assert "without a metadata table" in health(cli)[1]


def test_non_ok_health_is_logged_as_a_warning(cli, portal):
    portal.inject(PAGES, "empty")
    r = cli("crawl", "kaihua")
    assert "WARNING" in r.output and "is EMPTY: nothing listed" in r.output
