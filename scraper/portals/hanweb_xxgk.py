"""Hanweb xxgk directory columns: POST /module/xxgk/search.jsp, or every node of the tree.jsp.

The column page's `loadDynamic('/module/xxgk/search.jsp?infotypeId=…&area=…&divid=…', …)` gives the
form; each page is that form POSTed with `currpage=N`, `X-Requested-With: XMLHttpRequest`, a Referer
and an Origin. A column with only the `tree.jsp?divid=…&area=…` iframe is walked node by node (every
`funclick('<infotypeId>', …)`). Answers are HTML fragments whose links carry mc (名称), wh (文号),
rq (日期) and syh (索引号); paging stops at 共N页 or at a page with nothing new.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from scraper.portals.base import ListError, ListItem, ListProblem, Page, Portal, Yielded, iso_date, list_meta, origin

_SEARCH = re.compile(r"""(/module/xxgk/(?:search|search_custom|subjectinfo)\.jsp\?[^'"\s<>]*)""")
_TREE = re.compile(r"""(/module/xxgk/tree\.jsp\?[^'"\s<>]*)""")
_FUNCLICK = re.compile(r"""funclick\(\s*\\?['"]([\w.-]+)\\?['"]""")
_PAGES = re.compile(r"共\s*(\d+)\s*页")
_WEBID = re.compile(r"""<meta\s+name=['"]WebId['"]\s+content=['"](\d+)['"]""", re.I)
AJAX = "XMLHttpRequest"


def form_of(url: str) -> tuple[str, dict]:
    """(path, params) of a search.jsp / tree.jsp URL as written in the page (HTML entities undone)."""
    parts = urlsplit(htmllib.unescape(url))
    return parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))


def parse_rows(fragment: str, base_url: str) -> list[ListItem]:
    """The documents of one search.jsp answer: links carrying mc / syh (the header and pager have none)."""
    items = []
    for a in HTMLParser(fragment).css("a[href]"):
        attrs = a.attributes
        if "mc" not in attrs and "syh" not in attrs:
            continue
        href = (attrs.get("href") or "").strip()
        if not href or href.lower().startswith("javascript:"):
            continue
        date = iso_date(attrs.get("rq"))
        title = (attrs.get("mc") or attrs.get("title") or a.text(strip=True) or "").strip() or None
        meta = list_meta(index_no=attrs.get("syh"), doc_no=attrs.get("wh"), publish_date=date)
        items.append(ListItem(urljoin(base_url, href), title, date, meta))
    return items


class HanwebXxgk(Portal):
    family = "hanweb-xxgk"
    rank = 20
    looks_for = (
        "Hanweb xxgk: /module/xxgk/search.jsp (loadDynamic) or a /module/xxgk/tree.jsp iframe, without dataproxy.jsp"
    )

    @classmethod
    def sniff(cls, url: str, html: str) -> dict | None:
        if "module/xxgk/" not in html or "dataproxy" in html:
            return None
        search, tree = _SEARCH.search(html), _TREE.search(html)
        if search:
            path, params = form_of(search.group(1))
            return {"search": path, **{k: params[k] for k in ("infotypeId", "area", "jdid", "divid") if k in params}}
        if tree:
            path, params = form_of(tree.group(1))
            return {"tree": path, **{k: params[k] for k in ("area", "divid") if k in params}}
        return {}

    async def items(self) -> AsyncIterator[Yielded]:
        try:
            page = await self.get_text(self.column_url)
            forms = await self._forms(page)
        except ListError as exc:
            yield ListProblem(exc.url, exc.reason, exc.layout)
            return
        seen: set[str] = set()
        for path, form in forms:
            async for item in self.walk((urljoin(self.column_url, path), form), seen):
                yield item

    async def _forms(self, page: str) -> list[tuple[str, dict]]:
        search = _SEARCH.search(page)
        if search:
            return [form_of(search.group(1))]
        tree = _TREE.search(page)
        if tree is None:
            raise ListError(
                self.column_url, f"no xxgk list on the column page (looked for {self.looks_for})", layout=True
            )
        tree_path, tree_params = form_of(tree.group(1))
        nodes = list(dict.fromkeys(_FUNCLICK.findall(await self.get_text(urljoin(self.column_url, tree.group(1))))))
        if not nodes:
            raise ListError(urljoin(self.column_url, tree_path), "tree.jsp has no funclick('…') nodes", layout=True)
        webid = _WEBID.search(page)
        base = {
            "area": tree_params.get("area", ""),
            "divid": tree_params.get("divid", ""),
            "jdid": webid.group(1) if webid else "",
            "sortfield": ",compaltedate:0",
            "standardXxgk": tree_params.get("standardXxgk", "1"),
        }
        return [("/module/xxgk/search.jsp", {**base, "infotypeId": node}) for node in nodes]

    async def page(self, target: tuple[str, dict], n: int) -> Page:
        """Page `n` of one search form; 共N页 gives the page count."""
        url, form = target
        headers = {"X-Requested-With": AJAX, "Referer": self.column_url, "Origin": origin(self.column_url)}
        text = await self.get_text(url, method="POST", data={**form, "currpage": str(n)}, headers=headers)
        found = _PAGES.search(text)
        rows = parse_rows(text, self.column_url)
        if n == 1 and not rows and found is None:
            raise ListError(url, "search.jsp answer with no rows (a[mc] / a[syh]) and no 共N页 pager", layout=True)
        return Page(rows, int(found.group(1)) if found else None)
