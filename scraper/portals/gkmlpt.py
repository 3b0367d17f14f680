"""Guangdong gkmlpt (政府信息公开目录管理平台): {base}/gkmlpt/api/all/{category}?page=N&sid=SID.

A column is `{base}/gkmlpt/index#{category}` ({base} may carry a path, e.g. www.dg.gov.cn/dghlz), the
index without a category (every leaf of its TREE), or an api/all URL itself. SID and TREE come from
`window._CONFIG` on the index page. Pages hold 100 articles; page 0 answers as page 1, so the walk
starts at 1 (as Portal.walk does); it ends at post_count, at an empty page or at a page with nothing new. Each article's
identifier (索引号), document_number (文号), publisher, dates and classification are kept as list
metadata; `"type":"url"` entries are jumps to other sites, not documents.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urljoin, urlsplit

from scraper.portals.base import ListError, ListItem, ListProblem, Page, Portal, Yielded, epoch_date, list_meta

PER_PAGE = 100
_SID = re.compile(r"""SID\s*:\s*['"]?(\w+)['"]?""")
_TREE = re.compile(r"TREE\s*:\s*(\[.*?\])\s*,\s*[A-Z_]+\s*:", re.S)
_API = re.compile(r"^(.*)/gkmlpt/api/all/(\d+)$")


def split_column(url: str) -> tuple[str, str | None, str | None]:
    """(base URL before /gkmlpt/, category, sid) of a column URL."""
    parts = urlsplit(url)
    m = _API.match(parts.path)
    if m:
        sid = parse_qs(parts.query).get("sid", [None])[0]
        return f"{parts.scheme}://{parts.netloc}{m.group(1)}", m.group(2), sid
    prefix = parts.path.split("/gkmlpt/", 1)[0] if "/gkmlpt/" in parts.path else ""
    category = parts.fragment.strip("/") if parts.fragment.strip("/").isdigit() else None
    return f"{parts.scheme}://{parts.netloc}{prefix}", category, None


def leaves(tree: list) -> list[str]:
    """Leaf categories of a _CONFIG.TREE (nodes that jump to another site are skipped)."""
    out = []
    for node in tree:
        if not isinstance(node, dict) or node.get("jump_url"):
            continue
        kids = leaves(node.get("children") or [])
        out.extend(kids or [str(node.get("id"))])
    return out


def to_item(article: dict, base: str) -> ListItem | None:
    if article.get("type") == "url" or not article.get("url"):
        return None  # a jump to another site, not a document here
    published = epoch_date(article.get("display_publish_time")) or epoch_date(article.get("create_time"))
    meta = list_meta(
        index_no=article.get("identifier"),
        doc_no=article.get("document_number"),
        publisher=article.get("publisher"),
        publish_date=published,
        written_date=epoch_date(article.get("date")),
        topic=article.get("classify_theme_name"),
        genre=article.get("classify_genre_name"),
    )
    title = str(article.get("title") or "").strip() or None
    return ListItem(urljoin(base, str(article["url"]).strip()), title, published, meta)


class Gkmlpt(Portal):
    family = "gkmlpt"
    rank = 50
    looks_for = "Guangdong gkmlpt: a /gkmlpt/ URL, or window._CONFIG with SID and TREE"

    @classmethod
    def sniff(cls, url: str, html: str) -> dict | None:
        if "/gkmlpt/" not in urlsplit(url).path and not ("_CONFIG" in html and _SID.search(html) and "TREE" in html):
            return None
        base, category, sid = split_column(url)
        found = _SID.search(html)
        return {"base": base, "category": category, "sid": sid or (found.group(1) if found else None)}

    async def items(self) -> AsyncIterator[Yielded]:
        base, category, sid = split_column(self.column_url)
        try:
            if sid is None or category is None:
                sid, categories = await self._config(base, sid, category)
            else:
                categories = [category]
        except ListError as exc:
            yield ListProblem(exc.url, exc.reason, exc.layout)
            return
        seen: set[str] = set()
        for cat in categories:
            async for item in self.walk((f"{base}/gkmlpt/api/all/{cat}", sid), seen):
                yield item

    async def _config(self, base: str, sid: str | None, category: str | None) -> tuple[str, list[str]]:
        url = f"{base}/gkmlpt/index"
        page = await self.get_text(url)
        found, tree = _SID.search(page), _TREE.search(page)
        if found is None or (category is None and tree is None):
            raise ListError(url, "no window._CONFIG with SID and TREE on the gkmlpt index", layout=True)
        if category is not None:
            return sid or found.group(1), [category]
        try:
            categories = leaves(json.loads(tree.group(1)))
        except ValueError:
            raise ListError(url, "_CONFIG.TREE is not JSON", layout=True) from None
        return sid or found.group(1), categories

    async def page(self, target: tuple[str, str], n: int) -> Page:
        api, sid = target
        url = f"{api}?page={n}&sid={sid}"
        payload = await self.get_json(url)
        articles = payload.get("articles") if isinstance(payload, dict) else None
        if not isinstance(articles, list):
            raise ListError(url, "gkmlpt answer without an articles list", layout=True)
        classify = payload.get("classify") or {}
        total = classify.get("post_count") if isinstance(classify, dict) else None
        total = total if isinstance(total, int) else payload.get("total")
        total = total if isinstance(total, int) else None
        return Page(
            [to_item(a, url) for a in articles if isinstance(a, dict)],
            math.ceil(total / PER_PAGE) if total is not None else None,
            total,
        )
