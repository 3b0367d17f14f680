"""Any static list site, by CSS selectors: list item, link, date, next page.

A source gives `selectors = {item = "ul.news-list > li", link = "a", date = "span.date", next = "a.next"}`
(only `item` is required; `title` may name the row's title element when it is not the link); without them the selectors are guessed from the first page: the element
whose repeated children each hold a link and a date. Pages follow the `next` link (or a link reading
下一页 / 下页 / next) until there is none, it was seen, or a page brings nothing new.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode

from scraper.portals.base import ListError, ListItem, ListProblem, Portal, Yielded, iso_date, unseen

NEXT_WORDS = ("下一页", "下页")
NEXT_SIGNS = ("next", "next page", "›", ">", "»")
_ROW_TAGS = ("li", "tr", "dd", "div", "p")
_CHROME = re.compile(r"\b(nav\w*|menu|header|footer|crumbs?|position|tabs?|pager|pages?)\b", re.I)
MIN_ROWS = 3


def _selector(node: LexborNode) -> str:
    ident = (node.attributes.get("id") or "").strip()
    if ident and re.fullmatch(r"[A-Za-z][\w-]*", ident):
        return f"{node.tag}#{ident}"
    classes = [c for c in (node.attributes.get("class") or "").split() if re.fullmatch(r"[A-Za-z][\w-]*", c)]
    return node.tag + "".join(f".{c}" for c in classes[:2])


def _path_selector(node: LexborNode) -> str:
    """The node's selector, anchored on the nearest ancestor (up to 3) with an id or a class."""
    parts, current = [_selector(node)], node
    while (
        parts[0] == current.tag
        and current.parent is not None
        and len(parts) < 4
        and current.parent.tag not in ("body", "html")
    ):
        current = current.parent
        parts.insert(0, _selector(current))
    return " > ".join(parts)


def _dated_link(row: LexborNode) -> tuple[LexborNode, LexborNode | None] | None:
    """(title link, the child element printing a date) of a list row, if it is one."""
    link = next((a for a in row.css("a[href]") if len((a.attributes.get("title") or a.text(strip=True))) >= 6), None)
    if link is None:
        return None
    for node in row.css("*"):
        if node.mem_id != link.mem_id and not node.css_first("a") and iso_date(node.text(deep=False)):
            return link, node
    return (link, None) if iso_date(row.text()) else None


def guess_selectors(html: str) -> dict | None:
    """Selectors for the biggest run of sibling rows that each hold a title link and a date."""
    tree = HTMLParser(html)
    best: tuple[int, LexborNode, str] | None = None
    for parent in tree.css("ul, ol, tbody, table, div, dl"):
        if _CHROME.search(f"{parent.attributes.get('class') or ''} {parent.attributes.get('id') or ''}"):
            continue
        tags = Counter(child.tag for child in parent.iter() if child.tag in _ROW_TAGS)
        if not tags:
            continue
        tag, count = tags.most_common(1)[0]
        if count < MIN_ROWS:
            continue
        rows = [child for child in parent.iter() if child.tag == tag and _dated_link(child)]
        if len(rows) >= MIN_ROWS and (best is None or len(rows) > best[0]):
            best = (len(rows), parent, tag)
    if best is None:
        return None
    _, parent, tag = best
    found = {"item": f"{_path_selector(parent)} > {tag}", "link": "a[href]"}
    sample = next(child for child in parent.iter() if child.tag == tag and _dated_link(child))
    link, date = _dated_link(sample)
    if link.attributes.get("class"):
        found["link"] = _selector(link)
    if date is not None and date.tag != sample.tag:
        found.update(_date_selector(sample, date))
    nxt = next_link(tree, None)
    if nxt is not None and nxt.attributes.get("class"):
        found["next"] = _selector(nxt)
    return found


def _date_selector(row: LexborNode, date: LexborNode) -> dict:
    """A selector that finds exactly this date element in the row (by class, else by position), or none."""
    siblings = [n for n in date.parent.iter()] if date.parent is not None else []
    position = next((i for i, n in enumerate(siblings, 1) if n.mem_id == date.mem_id), 0)
    for candidate in (_selector(date), f"{date.tag}:nth-child({position})"):
        hit = row.css_first(candidate)
        if hit is not None and hit.mem_id == date.mem_id:
            return {"date": candidate}
    return {}


def next_link(tree: HTMLParser, selector: str | None) -> LexborNode | None:
    if selector:
        return next((a for a in tree.css(selector) if a.attributes.get("href")), None)
    for a in tree.css("a[href]"):
        text = a.text(strip=True)
        if any(w in text for w in NEXT_WORDS) or text.lower() in NEXT_SIGNS:
            return a
    return None


def parse_page(html: str, page_url: str, sel: dict) -> tuple[list[ListItem], str | None]:
    """(items, next page URL) of one list page."""
    tree = HTMLParser(html)
    items = []
    for row in tree.css(sel["item"]):
        link = row.css_first(sel.get("link") or "a[href]")
        href = (link.attributes.get("href") or "").strip() if link is not None else ""
        if not href or href.startswith(("#", "javascript:")):
            continue
        shown = row.css_first(sel["title"]) if sel.get("title") else None
        title = (
            shown.text(strip=True) if shown is not None else link.attributes.get("title") or link.text(strip=True) or ""
        ).strip() or None
        date_node = row.css_first(sel["date"]) if sel.get("date") else None
        date = iso_date(date_node.text() if date_node is not None else row.text())
        items.append(ListItem(urljoin(page_url, href), title, date))
    nxt = next_link(tree, sel.get("next"))
    href = (nxt.attributes.get("href") or "").strip() if nxt is not None else ""
    return items, (urljoin(page_url, href) if href and not href.startswith(("#", "javascript:")) else None)


class Generic(Portal):
    family = "generic"
    rank = 1000  # a plain list page: tried when no other family claims the page
    looks_for = "a static list: repeated rows that each hold a title link and a date (or set selectors)"

    @classmethod
    def sniff(cls, url: str, html: str) -> dict | None:
        return guess_selectors(html)

    async def items(self) -> AsyncIterator[Yielded]:
        sel = dict(self.options.get("selectors") or {})
        url: str | None = self.column_url
        visited: set[str] = set()
        seen: set[str] = set()
        while url and url not in visited and (not visited or self.pages_left()):
            visited.add(url)
            try:
                html = await self.get_text(url)
            except ListError as exc:
                yield ListProblem(exc.url, exc.reason, exc.layout)
                return
            if not sel:
                sel = guess_selectors(html) or {}
                if not sel:
                    yield ListProblem(url, f"no list found (looked for {self.looks_for})", layout=True)
                    return
            items, nxt = parse_page(html, url, sel)
            fresh = unseen(items, seen)
            if not fresh:
                if len(visited) == 1:
                    yield ListProblem(url, f"no list items match {sel['item']!r}", layout=True)
                return
            for item in fresh:
                yield item
            url = nxt
