"""Attachment links (files by extension) and related 解读 links, as absolute URLs."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

from selectolax.lexbor import LexborNode

from scraper.parse.tree import ancestors, collapse, node_text

ATTACHMENT_EXTENSIONS = frozenset({"pdf", "doc", "docx", "xls", "xlsx", "wps", "ofd", "zip", "rar", "et", "txt"})
_FILENAME_PARAMS = ("filename", "file_name")
_STORAGE_ID_RE = re.compile(r"[0-9a-fA-F]{16,}|\d{8,}")
_ATTACHMENT_BLOCK_HINTS = ("attach", "fujian", "xgfj", "appendix", "enclosure")
# Page chrome where a 解读 link is a column link, not this article's interpretation.
_CHROME_TAGS = frozenset({"nav", "header", "footer"})
_CHROME_HINTS = ("nav", "menu", "position", "crumb", "bt-place", "dqwz", "location", "daohang", "footer", "header")


@dataclass
class Link:
    name: str
    url: str


def _ext(name: str) -> str:
    return posixpath.splitext(name)[1].lower().lstrip(".")


def attachment_filename(href: str) -> tuple[str, str | None] | None:
    """(extension, fileName parameter) when `href` points at a file, else None."""
    parts = urlsplit(href)
    params = {k.lower(): v for k, v in parse_qsl(parts.query)}
    param_name = next((params[k] for k in _FILENAME_PARAMS if params.get(k)), None)
    for candidate in (unquote(parts.path), param_name or ""):
        if _ext(candidate) in ATTACHMENT_EXTENSIONS:
            return _ext(candidate), param_name
    return None


def _href(node: LexborNode, base_url: str) -> str | None:
    href = (node.attributes.get("href") or "").strip()
    if not href or href.startswith("#") or href.lower().startswith(("javascript:", "mailto:", "tel:")):
        return None
    return urljoin(base_url, href)


def _hints(node: LexborNode) -> str:
    attrs = node.attributes
    return f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower()


def _link_name(node: LexborNode) -> str:
    img = node.css_first("img[alt]")
    alt = img.attributes.get("alt") if img is not None else None
    return node_text(node) or collapse(node.attributes.get("title") or alt or "")


def _attachment_scopes(container: LexborNode) -> list[LexborNode]:
    """The container plus attachment-like siblings of it and of its two nearest ancestors."""
    scopes, node = [container], container
    for _ in range(3):
        if node is None:
            break
        for side in ("prev", "next"):
            sibling = getattr(node, side)
            while sibling is not None:
                if sibling.is_element_node and any(h in _hints(sibling) for h in _ATTACHMENT_BLOCK_HINTS):
                    scopes.append(sibling)
                sibling = getattr(sibling, side)
        node = node.parent
    return scopes


def attachments(container: LexborNode, base_url: str) -> list[Link]:
    found: dict[str, Link] = {}
    for scope in _attachment_scopes(container):
        for a in scope.css("a[href]"):
            url = _href(a, base_url)
            file = attachment_filename(url) if url else None
            if url is None or file is None or url in found:
                continue
            param = collapse(file[1] or "")
            if _STORAGE_ID_RE.fullmatch(posixpath.splitext(param)[0]):
                param = ""  # Hanweb `filename=<32hex>.xlsx` is a storage id: the link text names it
            name = collapse(a.attributes.get("download") or "") or param or _link_name(a)
            found[url] = Link(name=name, url=url)
    return list(found.values())


def _in_chrome(node: LexborNode) -> bool:
    for parent in ancestors(node):
        if parent.tag in _CHROME_TAGS or any(h in _hints(parent) for h in _CHROME_HINTS):
            return True
    return False


def _is_column_page(url: str) -> bool:
    path = urlsplit(url).path
    return path.endswith("/") or posixpath.basename(path).startswith("index.")


def related(root: LexborNode, base_url: str, page_url: str) -> list[Link]:
    """解读 links: `a#zcjdlink`, and links whose text contains 解读 outside page chrome."""
    found: dict[str, Link] = {}
    for a in root.css("a[href]"):
        url = _href(a, base_url)
        if url is None or url in found or url == page_url:
            continue
        name = _link_name(a)
        if a.attributes.get("id") == "zcjdlink" or (
            "解读" in name and not _in_chrome(a) and not _is_column_page(url)
        ):
            found[url] = Link(name=name, url=url)
    return list(found.values())
