"""Hanweb jcms columns: the first group embedded in <datastore>, the rest through dataproxy.jsp.

Everything is read off the column page as a browser does: the unit's `param_{UNIT}` object (the
ajaxParam), and from its `$('#UNIT').jpage({...})` call totalRecord, perPage, groupSize, proxyUrl.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from scraper.portals.base import ListError, ListItem, ListProblem, Portal, Yielded, iso_date

_JPAGE = re.compile(r"\$\(\s*['\"]#([\w-]+)['\"]\s*\)\.jpage\(\s*\{(.*?)\}\s*\)", re.S)
_PARAM = r"var\s+param_{unit}\s*=\s*\{{(.*?)\}}\s*;"
_KV = re.compile(r"""([A-Za-z_]\w*)\s*:\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,}]*)""")
_DATASTORE = r"<div[^>]*\bid=['\"]{unit}['\"][^>]*>\s*<script[^>]*text/xml[^>]*>(.*?)</script>"
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>")


@dataclass
class Unit:
    unit_id: str
    total: int
    per_page: int
    group_size: int
    proxy_url: str
    params: dict
    mini: bool


def js_object(body: str) -> dict:
    """The flat JS object literals jcms writes ({col:1,appid:'1',webname:'…'}) as a dict of strings."""
    out = {}
    for key, raw in _KV.findall(body):
        raw = raw.strip()
        if raw[:1] in "'\"" and raw[-1:] == raw[:1]:
            raw = raw[1:-1]
        out[key] = raw
    return out


def find_units(html: str) -> list[Unit]:
    units: dict[str, Unit] = {}
    for unit_id, body in _JPAGE.findall(html):
        opts = js_object(body)
        if "dataStore" not in body:  # jpage_XXX(): the search form's call (totalRecord:1000)
            continue
        m = re.search(_PARAM.format(unit=re.escape(unit_id)), html, re.S)
        params = js_object(m.group(1)) if m else {}
        try:
            units[unit_id] = Unit(
                unit_id,
                int(float(opts.get("totalRecord", "0"))),
                int(opts.get("perPage", "15")),
                int(opts.get("groupSize", "3")),
                opts.get("proxyUrl") or "/module/web/jpage/dataproxy.jsp",
                params,
                opts.get("showMode") == "mini",
            )
        except ValueError:
            continue
    return sorted(units.values(), key=lambda u: u.mini)  # PC units before mobile ones


def parse_records(xml: str) -> list[ListItem]:
    items = []
    for frag in _RECORD.findall(xml):
        tree = HTMLParser(frag)
        a = tree.css_first("a[href]")
        if a is None:
            continue
        title = (a.attributes.get("title") or a.text(strip=True) or "").strip() or None
        date_node = tree.css_first("span, b, td:last-child")
        date = iso_date(date_node.text() if date_node else None) or iso_date(tree.text())
        items.append(ListItem(url=a.attributes["href"], title=title, date=date))
    return items


def embedded_items(html: str, unit: Unit, column_url: str) -> list[ListItem]:
    """The first group, embedded in the unit's <script type="text/xml"><datastore>, as absolute URLs."""
    m = re.search(_DATASTORE.format(unit=re.escape(unit.unit_id)), html, re.S)
    items = parse_records(m.group(1)) if m else []
    for item in items:
        item.url = urljoin(column_url, item.url)
    return items


def check_datastore(xml: str, url: str) -> None:
    """Refuse a dataproxy answer that is not a whole datastore (truncated, broken CDATA)."""
    if "<datastore" not in xml or "</datastore>" not in xml:
        raise ListError(url, "malformed dataproxy XML (no complete <datastore> element)")
    if xml.count("<record>") != len(_RECORD.findall(xml)):
        raise ListError(url, "malformed dataproxy XML (a <record> without a closed CDATA section)")


class HanwebJpage(Portal):
    family = "hanweb-jpage"
    rank = 10
    looks_for = "Hanweb jcms: dataproxy.jsp, or a <datastore> with a .jpage({...}) call"

    @classmethod
    def sniff(cls, url: str, html: str) -> dict | None:
        if "dataproxy.jsp" not in html and not ("<datastore>" in html and ".jpage(" in html):
            return None
        units = find_units(html)
        if not units:
            return {}
        u = units[0]
        return {
            "unitid": u.unit_id,
            "columnid": u.params.get("columnid"),
            "webid": u.params.get("webid"),
            "totalRecord": u.total,
            "perPage": u.per_page,
            "groupSize": u.group_size,
            "proxyUrl": u.proxy_url,
        }

    async def items(self) -> AsyncIterator[Yielded]:
        try:
            html = await self.get_text(self.column_url)
        except ListError as exc:
            yield ListProblem(exc.url, exc.reason)
            return
        units = find_units(html)
        if not units:
            yield ListProblem(
                self.column_url,
                "no jpage unit on the column page (looked for $('#UNIT').jpage({...dataStore...}) and var param_UNIT)",
                layout=True,
            )
            return
        unit = units[0]
        self.total = unit.total
        embedded = embedded_items(html, unit, self.column_url)
        for listed in embedded:
            yield listed
        first = embedded[0].url if embedded else None
        async for item in self._walk(unit, {i.url for i in embedded}, first):
            yield item

    async def _walk(self, unit: Unit, seen: set[str], first: str | None) -> AsyncIterator[Yielded]:
        """Windows of perPage x groupSize records; falls back to page=N where startrecord is ignored.

        A window of items seen already is normal when the list moved (items pushed on top while we
        page): the walk goes on to `total`; only an empty window ends it early."""
        window = max(1, unit.per_page * unit.group_size)
        proxy = urljoin(self.column_url, unit.proxy_url)
        start, total, requests, mode = len(seen), unit.total, 1, "records"
        while start < total:
            if self.max_pages is not None and requests >= self.max_pages:
                return
            requests += 1
            if mode == "records":
                query = f"startrecord={start + 1}&endrecord={start + window}&perpage={unit.per_page}"
            else:
                query = f"page={start // window + 1}&perpage={window}"
            url = f"{proxy}?{query}"
            try:
                xml = await self.get_text(
                    url, check_datastore, method="POST", data=dict(unit.params), headers={"Referer": self.column_url}
                )
            except ListError as exc:
                yield ListProblem(exc.url, exc.reason)
                start += window
                continue
            t = _TOTAL.search(xml)
            total = self.total = int(t.group(1)) if t else total
            records = [self._absolute(i) for i in parse_records(xml)]
            if not records:
                return
            if mode == "records" and start and records[0].url == first:
                mode = "page"  # the server ignored startrecord: page through instead
                continue
            fresh = [i for i in records if i.url not in seen]
            for item in fresh:
                seen.add(item.url)
                yield item
            start += min(len(records), window) if mode == "records" else window  # never past what was asked

    def _absolute(self, item: ListItem) -> ListItem:
        item.url = urljoin(self.column_url, item.url)
        return item
