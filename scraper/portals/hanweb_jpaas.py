"""Hanweb jpaas columns (the Zhejiang 集约化 platform): the unit API behind unitbuild.js.

The column page is a shell: `<script src=".../unitbuild.js" url="/api-gateway/jpaas-publish-server/front/
page/build/unit" queryData="{'webId':'…','tplSetId':'…','pageId':'…',…}">`. The unit API answers
{"data":{"html":…}} with `li` items (the anchor text is truncated: the full title is @title) and a
pagination table whose count= is the total and rows= the page size. Pages go ONLY through
paramJson={"pageNo":N,"pageSize":"R"} (bare pageNo is ignored); a page with nothing new ends the walk.
"""

from __future__ import annotations

import html as htmllib
import json
import math
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from scraper.portals.base import ListError, ListItem, ListProblem, Page, Portal, Yielded, iso_date

UNIT_API = "/api-gateway/jpaas-publish-server/front/page/build/unit"
_SCRIPT = re.compile(r"<script\b[^>]*\bunitbuild\.js[^>]*>", re.I)
_ATTR = r"""\b{name}\s*=\s*("([^"]*)"|'([^']*)')"""
_PAIR = re.compile(r"""['"](\w+)['"]\s*:\s*['"]([^'"]*)['"]""")


def attr(tag: str, name: str) -> str | None:
    m = re.search(_ATTR.format(name=name), tag, re.I)
    return htmllib.unescape(m.group(2) if m.group(2) is not None else m.group(3)) if m else None


def find_units(html: str) -> list[tuple[str, dict]]:
    """(unit API URL, queryData) of every unitbuild.js script on the page."""
    units = []
    for tag in _SCRIPT.findall(html):
        query = dict(_PAIR.findall(attr(tag, "queryData") or ""))
        if query.get("pageId"):
            units.append((attr(tag, "url") or UNIT_API, query))
    return units


def parse_unit(payload, url: str) -> tuple[list[ListItem], int | None, int | None]:
    """(items, count, rows) of one unit API answer; raises ListError when it is not one."""
    data = payload.get("data") if isinstance(payload, dict) else None
    html = data.get("html") if isinstance(data, dict) else None
    if not isinstance(html, str):
        raise ListError(
            url,
            "unit API answer without data.html "
            f"({(payload or {}).get('message') if isinstance(payload, dict) else 'not an object'})",
            layout=True,
        )
    tree = HTMLParser(html)
    items = []
    for li in tree.css("li"):
        a = li.css_first("a[href]")
        if a is None:
            continue
        title = (a.attributes.get("title") or a.text(strip=True) or "").strip() or None
        date = li.css_first("span")
        items.append(ListItem(a.attributes["href"].strip(), title, iso_date(date.text() if date else li.text())))
    bar = tree.css_first("table[count]")
    count = rows = None
    if bar is not None:
        count = _int(bar.attributes.get("count"))
        rows = _int(bar.attributes.get("rows"))
    return items, count, rows


class HanwebJpaas(Portal):
    family = "hanweb-jpaas"
    rank = 30
    looks_for = "Hanweb jpaas: jpaas-publish-server, a unitbuild.js script with queryData"

    @classmethod
    def sniff(cls, url: str, html: str) -> dict | None:
        if "jpaas-publish-server" not in html and "unitbuild.js" not in html:
            return None
        units = find_units(html)
        return {"unit": units[0][0], **units[0][1]} if units else {}

    async def items(self) -> AsyncIterator[Yielded]:
        try:
            units = find_units(await self.get_text(self.column_url))
        except ListError as exc:
            yield ListProblem(exc.url, exc.reason, exc.layout)
            return
        if not units:
            yield ListProblem(
                self.column_url, f"no list unit on the column page (looked for {self.looks_for})", layout=True
            )
            return
        seen: set[str] = set()
        for api, query in units:
            async for item in self.walk(Unit(urljoin(self.column_url, api), query), seen):
                yield item

    async def page(self, target: Unit, n: int) -> Page:
        paging = json.dumps({"pageNo": n, "pageSize": str(target.rows)}, separators=(",", ":"))
        url = f"{target.api}?{urlencode({**target.query, 'paramJson': paging})}"
        items, count, size = parse_unit(await self.get_json(url, headers={"Referer": self.column_url}), url)
        if count is None and not items and n == 1:
            raise ListError(url, "unit API answer with no list items and no pagination table (count=)", layout=True)
        target.rows = size or target.rows
        for item in items:
            item.url = urljoin(self.column_url, item.url)
        return Page(items, math.ceil(count / target.rows) if count is not None else None, count)


@dataclass
class Unit:
    """One list unit of a column page: its API, its queryData, and its page size once an answer gives it."""

    api: str
    query: dict
    rows: int = 15


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
