"""TRS WCM static columns: index.html, index_1.html … index_{N-1}.html.

N is the first argument of `createPageHTML(N, current, "index", "html")` (or `var countPage = N` on older
templates); the extension may be html, htm or shtml, and the server answers 404 past the end. Rows are
links to `./YYYYMM/tYYYYMMDD_ID.html` inside the column's folder; links out of it (the 解读 popboxes,
../../jd/…) and links inside `.popbox` are not this column's documents. The row's date is its own
`<span>`/`<td>` text, never the date in the URL (they differ).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode

from scraper.portals.base import ListError, ListItem, ListProblem, Portal, Yielded, iso_date, unseen

_CREATE = re.compile(r"""createPage(?:HTML)?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*['"]([\w-]+)['"]\s*,\s*['"](\w+)['"]\s*\)""")
_COUNT = re.compile(r"var\s+countPage\s*=\s*(\d+)")
_ARTICLE = re.compile(r"/t\d{8}_\d+(?:_\w+)?\.s?html?$")
_ROW_TAGS = ("li", "tr", "dd", "p")


def paging(html: str, column_url: str) -> tuple[int, str, str] | None:
    """(pages, page name, extension), or None when the page declares no paging."""
    m = _CREATE.search(html)
    if m:
        return int(m.group(1)), m.group(3), m.group(4)
    m = _COUNT.search(html)
    if m:
        ext = urlsplit(column_url).path.rsplit(".", 1)
        return int(m.group(1)), "index", ext[1] if len(ext) == 2 and "/" not in ext[1] else "html"
    return None


def folder_of(url: str) -> str:
    return url if urlsplit(url).path.endswith("/") else url.rsplit("/", 1)[0] + "/"


def _in_popbox(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if "popbox" in (parent.attributes.get("class") or ""):
            return True
        parent = parent.parent
    return False


def _row_date(a: LexborNode) -> str | None:
    """The date printed in the link's row (its own children, not a popbox's), else in the link."""
    holding = {a.mem_id}  # the link and its ancestors up to the row: a title may hold a date
    row = a.parent
    while row is not None and row.tag not in _ROW_TAGS:
        holding.add(row.mem_id)
        row = row.parent
    for child in row.iter() if row is not None else ():
        if child.mem_id not in holding and "popbox" not in (child.attributes.get("class") or ""):
            date = iso_date(child.text())
            if date:
                return date
    return None


def parse_list(html: str, page_url: str, folder: str) -> list[ListItem]:
    items: dict[str, ListItem] = {}
    for a in HTMLParser(html).css("a[href]"):
        url = urljoin(page_url, (a.attributes.get("href") or "").strip())
        if not url.startswith(folder) or not _ARTICLE.search(urlsplit(url).path) or _in_popbox(a) or url in items:
            continue
        title = (a.attributes.get("title") or a.text(strip=True) or "").strip() or None
        items[url] = ListItem(url, title, _row_date(a))
    return list(items.values())


class TrsStatic(Portal):
    family = "trs-static"
    rank = 40
    looks_for = 'TRS WCM: createPageHTML(N, i, "index", "html") or var countPage, ./YYYYMM/tYYYYMMDD_ID.html links'

    @classmethod
    def sniff(cls, url: str, html: str) -> dict | None:
        found = paging(html, url)
        if found:
            return {"pages": found[0], "name": found[1], "ext": found[2]}
        if len(parse_list(html, url, folder_of(url))) >= 3:
            return {"pages": 1}
        return None

    async def items(self) -> AsyncIterator[Yielded]:
        folder = folder_of(self.column_url)
        try:
            first = await self.get_text(self.column_url)
        except ListError as exc:
            yield ListProblem(exc.url, exc.reason, exc.layout)
            return
        pages, name, ext = paging(first, self.column_url) or (1, "index", "html")
        items = parse_list(first, self.column_url, folder)
        if not items:
            yield ListProblem(
                self.column_url, "no ./YYYYMM/tYYYYMMDD_ID.html links in the column's folder", layout=True
            )
            return
        seen: set[str] = set()
        for page in range(pages):
            if page:
                if not self.pages_left():
                    return
                url = urljoin(folder, f"{name}_{page}.{ext}")
                try:
                    items = parse_list(await self.get_text(url), url, folder)
                except ListError as exc:
                    yield ListProblem(exc.url, exc.reason, exc.layout)
                    continue
            for item in unseen(items, seen):
                yield item
