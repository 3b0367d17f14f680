"""The bundled catalog of real sources, checked offline: each entry's column URLs are served by the simulator
of its family at the same path (so the URL has the shape the family has), detection names the family
there, and the adapter, given only that URL and the entry's options, lists every document of it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from cli.main import app
from scraper.config import CATALOG, parse_config
from scraper.decode import decode_html
from scraper.fetch import Fetcher, FetchPolicy
from scraper.portals import ListItem, detect, portal_class
from simulator import PortalSimulator


def catalog():
    return parse_config(CATALOG.read_text("utf-8"), "bundled catalog", Path("."), None).sources


def test_catalog_covers_the_families():
    sources = catalog()
    names = [s.name for s in sources]
    assert names[0] == "kaihua" and len(sources) >= 11 and len(set(names)) == len(names)
    assert {s.family for s in sources} == {
        "hanweb-jpage",
        "hanweb-xxgk",
        "hanweb-jpaas",
        "trs-static",
        "govcn",
        "gkmlpt",
        "generic",
    }
    assert all(s.schedule and s.family for s in sources)
    hosts = {urlsplit(u).hostname for s in sources for u in s.start_urls}
    assert {"www.ndrc.gov.cn", "sousuo.www.gov.cn", "www.gd.gov.cn", "fzggw.zj.gov.cn"} <= hosts


def path_of(url: str) -> str:
    p = urlsplit(url)
    return p.path + (f"?{p.query}" if p.query else "") + (f"#{p.fragment}" if p.fragment else "")


async def walk(urls: list[str], family: str, options: dict) -> tuple[list[ListItem], list, list]:
    items, problems, detected = [], [], []
    async with Fetcher(FetchPolicy(user_agent="t", rate=0, concurrency=4)) as f:
        for url in urls:
            res = await f.fetch(url)
            found = detect(url, decode_html(res.body, res.content_type)[0])
            detected.append(found.family if found else None)
            async for item in portal_class(family)(url, f.fetch, options=options).items():
                (items if isinstance(item, ListItem) else problems).append(item)
    return items, problems, detected


@pytest.mark.parametrize("source", catalog(), ids=lambda s: s.name)
def test_entry_against_its_family_simulator(source):
    paths = [path_of(u) for u in source.start_urls]
    with PortalSimulator(seed=2, docs=30, family=source.family, columns=paths) as sim:
        urls = [sim.base_url + p for p in paths]
        assert [u.split("#")[0] for u in sim.column_urls] == [u.split("#")[0] for u in urls]
        options = {"selectors": source.selectors.model_dump(exclude_none=True)} if source.selectors else {}
        items, problems, detected = asyncio.run(walk(urls, source.family, options))
        assert not problems, problems
        assert detected == [source.family] * len(urls)
        assert {i.url for i in items} == {u for d in sim.expected_documents() for u in d["urls"]}
        assert all(i.title and i.date for i in items)
    for url in source.start_urls:
        assert source.family == "govcn" or not portal_class(source.family).hosts(url)
        assert portal_class(source.family).hosts(url) <= {"www.gov.cn"}


def test_no_config_lists_the_catalog(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XXGK_CONFIG", raising=False)
    result = CliRunner().invoke(app, ["sources", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["name"] for r in rows] == [s.name for s in catalog()]
    assert all(r["family"] and r["next_run"] for r in rows)
