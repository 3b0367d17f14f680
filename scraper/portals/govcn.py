"""gov.cn, the State Council policy library: the JSON behind sousuo.www.gov.cn/zcwjk/policyDocumentLibrary.

A column is the library page with its `t` (zhengcelibrary_gw 国务院文件, _bm 部门文件, _gb 公报, or
zhengcelibrary for all, answered under searchVO.catMap.*), or a search-gov/data URL itself. Pages are
`GET /search-gov/data?t=…&p=N&n=M&…` with a Referer; items carry index (索引号), pcode (文号), puborg,
pubtime (ms) and childtype (主题分类), kept as list metadata: template-B articles have no table, so the
list is where their 索引号 comes from. The end: p past totalpage, or code 1001 with searchVO null.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from scraper.portals.base import ListError, ListItem, Page, Portal, Yielded, epoch_date, iso_date, list_meta, origin

LIBRARY = "policyDocumentLibrary"
API = "/search-gov/data"
PAGE_SIZE = 20
# the parameters the library page sends (sousuo.www.gov.cn, observed in scrapers)
DEFAULTS = {
    "t": "zhengcelibrary_gw",
    "q": "",
    "timetype": "timeqb",
    "mintime": "",
    "maxtime": "",
    "sort": "pubtime",
    "sortType": "1",
    "searchfield": "title",
    "pcodeJiguan": "",
    "childtype": "",
    "subchildtype": "",
    "tsbq": "",
    "pubtimeyear": "",
    "puborg": "",
    "pcodeYear": "",
    "pcodeNum": "",
    "filetype": "",
    "p": "1",
    "n": str(PAGE_SIZE),
    "inpro": "",
    "bmfl": "",
    "dup": "",
    "orpro": "",
    "type": "gwyzcwjk",
}
_TAGS = re.compile(r"<[^>]+>")


def listing(payload, url: str) -> tuple[list[dict], int | None, int | None]:
    """(items, total pages, total count) of one search-gov/data answer; no items for code 1001."""
    if not isinstance(payload, dict):
        raise ListError(url, "search answer is not a JSON object", layout=True)
    vo = payload.get("searchVO")
    if vo is None:
        if str(payload.get("code")) in ("1001", "200"):
            return [], None, None
        raise ListError(url, f"search answer code {payload.get('code')}: {payload.get('msg')}")
    rows = vo.get("listVO")
    if rows is None:  # t=zhengcelibrary: one list per category
        rows = [r for cat in (vo.get("catMap") or {}).values() for r in (cat.get("listVO") or cat.get("listvo") or [])]
    pages, count = vo.get("totalpage"), vo.get("totalCount")
    return (
        [r for r in rows if isinstance(r, dict)],
        int(pages) if str(pages).isdigit() else None,
        int(count) if str(count).isdigit() else None,
    )


def to_item(row: dict, base: str) -> ListItem | None:
    url = str(row.get("url") or "").strip()
    if not url:
        return None
    date = iso_date(row.get("pubtimeStr")) or epoch_date(row.get("pubtime"))
    meta = list_meta(
        index_no=row.get("index"),
        doc_no=row.get("pcode"),
        publisher=row.get("puborg"),
        publish_date=date,
        topic=row.get("childtype"),
    )
    title = _TAGS.sub("", str(row.get("title") or "")).strip() or None
    return ListItem(urljoin(base, url), title, date, meta)


class Govcn(Portal):
    family = "govcn"
    rank = 60
    looks_for = "gov.cn: a policyDocumentLibrary or search-gov/data URL, or zhengcelibrary in the page"

    @classmethod
    def sniff(cls, url: str, html: str) -> dict | None:
        path = urlsplit(url).path
        if LIBRARY not in path and not path.endswith(API) and "zhengcelibrary" not in html:
            return None
        return {"t": parse_qs(urlsplit(url).query).get("t", [DEFAULTS["t"]])[0]}

    @classmethod
    def hosts(cls, column_url: str) -> set[str]:
        """The library is searched on sousuo.www.gov.cn; its documents live on www.gov.cn."""
        host = urlsplit(column_url).hostname or ""
        return {"www.gov.cn"} if host.startswith("sousuo.") and host.endswith("gov.cn") else set()

    def api_query(self) -> tuple[str, dict]:
        parts = urlsplit(self.column_url)
        given = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if parts.path.endswith(API):
            return f"{origin(self.column_url)}{parts.path}", {**DEFAULTS, **given}
        return origin(self.column_url) + API, {**DEFAULTS, "t": given.get("t") or DEFAULTS["t"]}

    async def items(self) -> AsyncIterator[Yielded]:
        async for item in self.walk(self.api_query(), set()):
            yield item

    async def page(self, target: tuple[str, dict], n: int) -> Page:
        api, query = target
        size = int(query["n"]) if str(query["n"]).isdigit() else PAGE_SIZE
        url = f"{api}?{urlencode({**query, 'p': n, 'n': size})}"
        rows, pages, count = listing(await self.get_json(url, headers={"Referer": self.column_url}), url)
        return Page([to_item(r, url) for r in rows], pages, count)
