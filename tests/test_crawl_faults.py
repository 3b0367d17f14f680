"""Bad input gets a clear error and the crawl goes on (issue: the spine, 'Done when')."""
from __future__ import annotations

import json
import re

import pytest

from helpers import Cli, path_regex, write_config

pytestmark = pytest.mark.usefixtures("db_url")   # every test here runs on each database

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
    assert archived_count(cli) > 45        # the embedded groups and later windows still came in


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


@pytest.mark.parametrize("args, message", [
    (["crawl"], "name one or more sources"),
    (["crawl", "nosuch"], "unknown source 'nosuch'"),
    (["ls", "--since", "yesterday"], "YYYY-MM-DD"),
    (["show", "000000000/2000-00000"], "no document|no archive yet"),     # never crawled: no archive on SQLite
])
def test_bad_cli_arguments(cli, args, message):
    r = cli(*args, code=None)
    assert r.exit_code in (1, 2) and re.search(message, r.output)


def test_bad_config_exits_2_naming_the_key(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\nshedule = "every 1h"\n')
    r = Cli(cfg)("sources", code=2)
    assert "sources[0].shedule: unknown key" in r.output
