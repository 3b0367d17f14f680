"""Bad input gets a clear error and the crawl goes on (issue: the spine, 'Done when')."""

from __future__ import annotations

import json
import re
import socket
from urllib.parse import urlsplit

import pytest
from helpers import Cli, path_regex, write_config

pytestmark = pytest.mark.usefixtures("db_url")  # every test here runs on each database

SEED = "113308245972094984/2025-01529"


def problems(summary: dict) -> str:
    return "\n".join(summary["problems"])


def archived_count(cli) -> int:
    return len(cli.jsonl("ls"))


def test_malformed_dataproxy_xml_is_named_and_the_rest_is_crawled(cli, portal):
    portal.inject(r"dataproxy\.jsp\?startrecord=46&", "malformed-xml")
    summary = cli.jsonl("crawl", "kaihua")[0]
    assert summary["status"] == "partial"
    assert "malformed dataproxy XML" in problems(summary)
    assert archived_count(cli) > 45  # the embedded groups and later windows still came in


def test_non_html_body_is_a_clear_document_error(cli, portal):
    victim = portal.expected_documents()[5]["urls"][0]
    portal.inject(path_regex(victim), "binary")
    summary = cli.jsonl("crawl", "kaihua")[0]
    assert summary["status"] == "partial" and summary["errors"] == 1
    assert "parse error" in problems(summary) and victim in problems(summary)
    assert archived_count(cli) == len(portal.expected_documents()) - 1


def test_body_over_the_cap_is_refused_not_archived(tmp_path, portal):
    cfg = write_config(tmp_path, portal)
    cfg.write_text(cfg.read_text().replace("retries = 2", "retries = 2\nmax_body_bytes = 300000"))
    cli = Cli(cfg)
    victim = portal.expected_documents()[3]["urls"][0]
    portal.inject(path_regex(victim), "huge", size=5_000_000)
    summary = cli.jsonl("crawl", "kaihua")[0]
    assert summary["errors"] == 1 and "over the 300000-byte cap" in problems(summary)
    assert archived_count(cli) == len(portal.expected_documents()) - 1


def test_article_without_metadata_table_is_kept_by_url_and_flagged(cli, portal):
    exp = portal.expected_documents()[7]
    victim = exp["urls"][0]
    portal.inject(path_regex(victim), "no-metadata")
    summary = cli.jsonl("crawl", "kaihua")[0]
    assert summary["status"] == "ok"
    doc = json.loads(cli("show", victim, "--json").stdout)
    assert doc["index_no"] is None and doc["title"] == exp["title"]
    assert doc["body_text"] == exp["body_text"]


@pytest.mark.parametrize("robots", ["disallow-all", "disallow-art"])
def test_robots_txt_that_forbids_is_obeyed(cli, portal, robots):
    portal.robots = robots
    summary = cli.jsonl("crawl", "kaihua", code=1 if robots == "disallow-all" else 0)[0]
    assert "robots.txt forbids" in problems(summary)
    assert not [r for r in portal.requests if r.path.startswith("/art/")], "no article fetched"
    if robots == "disallow-all":
        assert summary["status"] == "failed"
        assert [r.path for r in portal.requests] == ["/robots.txt"]


def test_robots_can_be_ignored_per_source(tmp_path, portal):
    portal.robots = "disallow-all"
    cli = Cli(write_config(tmp_path, portal, obey_robots=False))
    summary = cli.jsonl("crawl", "kaihua")[0]
    assert summary["status"] == "ok" and summary["new"] == len(portal.expected_documents())


def test_server_errors_are_retried(cli, portal):
    portal.inject(r"/art/", "status", rate=0.5, code=503, times=2)
    portal.inject(r"dataproxy", "status", code=429, retry_after=1, times=1)
    summary = cli.jsonl("crawl", "kaihua")[0]
    assert summary["status"] == "ok", problems(summary)
    assert summary["new"] == len(portal.expected_documents())
    assert summary["requests"] > summary["fetched"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["crawl"], "name one or more sources"),
        (["crawl", "nosuch"], "unknown source 'nosuch'"),
        (["ls", "--since", "yesterday"], "YYYY-MM-DD"),
        (["show", "000000000/2000-00000"], "no document|no archive yet"),  # never crawled: no archive on SQLite
    ],
)
def test_bad_cli_arguments(cli, args, message):
    r = cli(*args, code=None)
    assert r.exit_code in (1, 2) and re.search(message, r.output)


def test_bad_config_exits_2_naming_the_key(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\nshedule = "every 1h"\n')
    r = Cli(cfg)("sources", code=2)
    assert "sources[0].shedule: unknown key" in r.output


def closed_port() -> int:
    """A port nothing listens on: bound, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("host, why", [(None, "connection refused"), ("portal.invalid", "name not resolved")])
def test_an_unreachable_portal_is_not_a_robots_refusal(tmp_path, portal, host, why):
    """Run summary, ledger note, health and `sources detect` say what happened, never 'forbids'."""
    cfg = write_config(tmp_path, portal)
    netloc = urlsplit(portal.base_url).netloc
    where = host or f"127.0.0.1:{closed_port()}"
    cfg.write_text(cfg.read_text().replace(netloc, where))
    column = portal.column_urls[0].replace(netloc, where)
    cli = Cli(cfg)
    expected = f"robots.txt unreachable: {why}"
    summary = cli.jsonl("crawl", "kaihua", code=1)[0]
    assert summary["status"] == "failed" and expected in problems(summary)
    run = cli.jsonl("runs")[0]
    assert expected in run["error"] and squashed(expected) in squashed(cli("runs").stdout)
    source = cli.jsonl("sources")[0]
    assert source["health"] == "FAILING" and expected in source["health_reason"]
    detected = json.loads(cli("sources", "detect", column, "--json", code=1).stdout)
    assert expected in detected["problem"]
    assert squashed(expected) in squashed(cli("sources", "detect", column, code=1).stdout)
    assert "forbids" not in json.dumps([summary, run, source, detected])


def squashed(text: str) -> str:
    """Text without spaces, line breaks and table rules: a folded last table column reads on."""
    return re.sub(r"[\s│┃]", "", text)


@pytest.mark.parametrize("status, crawled", [(404, True), (403, True), (500, False)])
def test_robots_txt_answers_follow_rfc_9309(cli, portal, status, crawled):
    """4xx: no restrictions; 5xx: crawl nothing on that host, and say robots.txt was unreachable."""
    portal.inject(r"^/robots\.txt$", "status", code=status)
    summary = cli.jsonl("crawl", "kaihua", code=0 if crawled else 1)[0]
    if crawled:
        assert summary["status"] == "ok" and summary["new"] == len(portal.expected_documents())
        return
    assert summary["status"] == "failed" and summary["new"] == 0
    assert f"robots.txt unreachable: HTTP {status}" in problems(summary) and "forbids" not in problems(summary)
    assert {r.path for r in portal.requests} == {"/robots.txt"}


def test_a_document_that_cannot_be_fetched_names_what_happened(cli, portal):
    victim = portal.expected_documents()[4]["urls"][0]
    portal.inject(path_regex(victim), "reset")
    summary = cli.jsonl("crawl", "kaihua")[0]
    assert summary["status"] == "partial" and summary["errors"] == 1
    assert f"connection reset (network error after 3 attempts): {victim}" in problems(summary)


def test_a_walled_list_page_costs_the_fetchers_retries_only(cli, portal):
    """One retry policy (the fetcher's): a list page behind an anti-bot wall is asked for retries + 1
    times (retries = 2 here), not again by the portal adapter on top (that was up to 5 x 4 = 20)."""
    portal.inject(r"^/(col|module/web)/", "wall")
    summary = cli.jsonl("crawl", "kaihua", code=1)[0]
    assert summary["status"] == "failed" and summary["blocked"] >= 1, problems(summary)
    lists = [(r.path, r.query) for r in portal.requests if re.match(r"^/(col|module/web)/", r.path)]
    assert lists, "the wall was met"
    assert max(lists.count(p) for p in set(lists)) == 3, lists


def test_a_run_stopped_by_an_anti_bot_streak_fetches_no_more_documents(tmp_path, portal):
    """Ten walled documents in a row stop the run (politeness): documents still waiting for their turn
    then are dropped, not fetched, though the crawl keeps more documents in flight than connections
    (those waiting on their group commit): only the ones already at the host's gate finish."""
    cli = Cli(write_config(tmp_path, portal, concurrency=2))
    portal.inject(r"^/art/", "wall")
    summary = cli.jsonl("crawl", "kaihua", code=1)[0]
    assert "anti-bot answers in a row" in problems(summary), problems(summary)
    documents = {r.path for r in portal.requests if r.path.startswith("/art/")}
    assert 10 <= len(documents) <= 10 + 2, sorted(documents)
