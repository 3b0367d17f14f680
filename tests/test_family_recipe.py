"""The recipe for a new portal family, proved: a toy family defined here alone — an adapter (a Portal
subclass giving sniff() and page()) and its simulated portal (a FamilySite subclass) — is detected,
configured by name and crawled exactly, with no other file touched (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import json
import math
import re
from html import escape
from urllib.parse import urljoin

import pytest
from helpers import Cli, write_config
from test_families_e2e import check_exact

from scraper.config import ConfigError, parse_config
from scraper.portals import FAMILIES, ListItem, Portal, detect
from scraper.portals.base import Page
from simulator import PortalSimulator
from simulator.families import FAMILIES as SIMULATED
from simulator.families.base import FamilySite
from simulator.pages import body_html, meta_table
from simulator.response import Response, html_response
from simulator.site import ORGANS, Column, Profile

pytestmark = pytest.mark.usefixtures("db_url")

PER_PAGE = 7
_LIST = re.compile(r"^/toy/(\w+)/list\.json$")


@pytest.fixture
def toy_family():
    """Both halves of the family, registered by being defined; unregistered afterwards."""

    class ToySite(FamilySite):  # the simulated portal: a JSON list API, plain articles
        family = "toy-json"
        profile = Profile(columns=(Column(1, "通知", key="/toy/tz/"),), weights=(1,), organs=ORGANS, id_base=9_000_000)

        def default_paths(self):
            return ["/toy/tz/index.html"]

        def doc_paths(self, doc):
            return [f"/toy/tz/{doc.id}.html"]

        def attachment_path(self, doc, att):
            return f"/toy/files/{att.filename}"

        def serve(self, ctx, params):
            if ctx.path == "/toy/tz/index.html":
                return html_response(
                    200, '<html><body><div id="toy-list" data-api="/toy/tz/list.json"></div></body></html>'
                )
            m = _LIST.match(ctx.path)
            if m:
                docs = self.column_docs(1)
                page = int(params.get("page", ["1"])[0])
                window = docs[(page - 1) * PER_PAGE : page * PER_PAGE]
                body = {
                    "pages": max(1, math.ceil(len(docs) / PER_PAGE)),
                    "total": len(docs),
                    "items": [
                        {"url": self.doc_paths(d)[0], "title": d.title, "date": d.date.isoformat()} for d in window
                    ],
                }
                return Response(200, {"Content-Type": "application/json"}, json.dumps(body).encode())
            return self.stored(ctx.path)

        def article_page(self, doc, path):
            return (
                f'<html><head><meta charset="utf-8"><title>{escape(doc.title)}</title></head><body>'
                f'{meta_table(doc)}<h1>{escape(doc.title)}</h1><div class="article-content">'
                f"{body_html(doc, href=lambda a: self.attachment_path(doc, a))}</div></body></html>"
            )

    class ToyJson(Portal):  # the adapter: sniff the column page, read one list page
        family = "toy-json"
        rank = 5
        looks_for = "a toy list: div#toy-list[data-api]"

        @classmethod
        def sniff(cls, url, html):
            m = re.search(r'id="toy-list" data-api="([^"]+)"', html)
            return {"api": m.group(1)} if m else None

        async def items(self):
            api = self.sniff(self.column_url, await self.get_text(self.column_url))["api"]
            async for item in self.walk(urljoin(self.column_url, api), set()):
                yield item

        async def page(self, target, n):
            url = f"{target}?page={n}"
            answer = await self.get_json(url)
            return Page(
                [ListItem(urljoin(url, i["url"]), i["title"], i["date"]) for i in answer["items"]],
                answer["pages"],
                answer["total"],
            )

    yield ToyJson
    FAMILIES.pop("toy-json", None)
    SIMULATED.pop("toy-json", None)


def test_a_family_defined_in_one_place_is_detected_configured_and_crawled(tmp_path, toy_family):
    with PortalSimulator(seed=5, docs=25, family="toy-json") as sim:
        column = sim.column_urls[0]
        assert detect(column, '<div id="toy-list" data-api="/toy/tz/list.json"></div>').portal is toy_family
        cli = Cli(write_config(tmp_path, sim, family=None))
        run = cli.jsonl("crawl", "kaihua")[0]
        assert run["status"] == "ok" and run["family"] == "toy-json", run
        assert run["listed"] == len(sim.expected_documents(1)) > PER_PAGE * 2  # several pages walked
        check_exact(cli, sim.expected_documents(1))


def test_an_unregistered_family_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match="unknown portal family 'toy-json'"):
        parse_config(
            '[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\nfamily = "toy-json"\n', "x.toml", tmp_path, None
        )
