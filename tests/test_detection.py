"""Detection names the right family for every saved column page and every simulated family, says what it
looked for when it cannot, and `xxgk sources detect URL` prints it (or exits 1 naming the signatures)."""

from __future__ import annotations

import json

import pytest
from helpers import Cli, write_config
from samples import sample

from scraper.portals import FAMILIES, detect, order, signatures
from simulator import PortalSimulator
from simulator.families import FAMILIES as SIMULATED

SAVED_COLUMNS = {
    "hanweb-jcms_js-fzggw_column_datastore-jpage.html": (
        "http://fzggw.jiangsu.gov.cn/col/col284/index.html",
        "hanweb-jpage",
    ),
    "hanweb-jpaas_zj-fzggw_column-shell_unitbuild.html": (
        "https://fzggw.zj.gov.cn/col/col1229565788/index.html",
        "hanweb-jpaas",
    ),
    "trs-wcm_ndrc_column-list_createPageHTML.html": ("https://www.ndrc.gov.cn/xxgk/zcfb/tz/index.html", "trs-static"),
}


def test_every_family_has_an_adapter_and_a_simulator():
    assert set(FAMILIES) == set(SIMULATED)
    assert [c.family for c in order()][-1] == "generic"  # the plain-list guess comes after every signature


@pytest.mark.parametrize("name", sorted(SAVED_COLUMNS))
def test_saved_column_pages(name):
    url, family = SAVED_COLUMNS[name]
    assert detect(url, sample(name).read_text("utf-8")).family == family


@pytest.fixture(scope="module")
def sims():
    started = {f: PortalSimulator(seed=4, docs=25, family=f).start() for f in SIMULATED}
    yield started
    for sim in started.values():
        sim.stop()


@pytest.mark.parametrize("family", sorted(SIMULATED))
def test_simulated_families(sims, family, tmp_path):
    import httpx

    sim = sims[family]
    for url in sim.column_urls:
        page = httpx.get(url, timeout=10).text
        assert detect(url, page).family == family, url


def test_an_unknown_page_names_what_was_looked_for():
    page = "<html><body><h1>欢迎</h1><p>没有列表</p><a href='/x'>x</a></body></html>"
    assert detect("http://example.gov.cn/", page) is None
    text = signatures()
    for needle in (
        "dataproxy.jsp",
        "module/xxgk/",
        "jpaas-publish-server",
        "createPageHTML",
        "_CONFIG",
        "policyDocumentLibrary",
        "a title link and a date",
    ):
        assert needle in text, needle


@pytest.mark.parametrize("family", ["hanweb-xxgk", "trs-static", "gkmlpt", "generic"])
def test_cli_sources_detect(sims, family, tmp_path):
    sim = sims[family]
    cli = Cli(write_config(tmp_path, sim, family=None))
    found = json.loads(cli("sources", "detect", sim.column_urls[0], "--json").stdout)
    assert found["family"] == family and found["problem"] is None and found["params"]
    truth = {u for d in sim.expected_documents() for u in d["urls"]}
    assert len(found["items"]) == 5 and all(i["url"] in truth and i["title"] and i["date"] for i in found["items"])
    text = cli("sources", "detect", sim.column_urls[0]).stdout
    assert family in text and f'family = "{family}"' in text and found["items"][0]["url"] in text


def test_cli_sources_detect_says_what_it_looked_for(sims, tmp_path):
    sim = sims["hanweb-jpage"]
    cli = Cli(write_config(tmp_path, sim))
    result = cli("sources", "detect", sim.base_url + "/index.html", code=1)
    assert "cannot tell the family" in result.stdout and "createPageHTML" in result.stdout
    result = cli("sources", "detect", sim.base_url + "/col/col1/nope.html", "--json", code=1)
    assert "HTTP 404" in json.loads(result.stdout)["problem"]
    assert cli("sources", "detect", "ftp://x/", code=2).exit_code == 2
    assert [r["name"] for r in cli.jsonl("sources")] == ["kaihua"]  # the listing is still the default
