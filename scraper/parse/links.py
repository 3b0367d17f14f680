"""Attachment links and related 解读 links, as absolute URLs.

A file is found by evidence, wherever it sits on the page outside chrome (nav, header, footer,
related-article lists): a link whose path, `filename`/`fileName` parameter or `download`
attribute names a file; any link in a block labelled 附件 / 相关附件 / 附件下载 (or with a class such
as fj, fjxz, xgfj, xxgk-art-fj, attach) whose text names a file; `{name, url}` objects in scripts
(`var apps = [...]`); `onclick="download('…')"`. Each is named by its download attribute, its
JSON name, its fileName parameter, else the link text; a link that names nothing (an icon) gives way to
a later link naming the same file, and a file no link names keeps its storage id here, for the file's own
response to name it once fetched (`Content-Disposition`, scraper/process.py).
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

from selectolax.lexbor import LexborNode

from scraper.parse.tree import ancestors, collapse, css, css_first, node_text, walk

ATTACHMENT_EXTENSIONS = frozenset({"pdf", "doc", "docx", "xls", "xlsx", "wps", "ofd", "zip", "rar", "et", "txt"})
_FILENAME_PARAMS = ("filename", "file_name")
_EXT_HINT_RE = re.compile(r"\.(?:" + "|".join(sorted(ATTACHMENT_EXTENSIONS)) + ")", re.I)
_STORAGE_ID_RE = re.compile(r"[0-9a-fA-F]{16,}|\d{8,}")
_BLOCK_CLASS_RE = re.compile(r"(?:^|[\s_-])(?:fj|fjxz|xgfj|fjlb|attach\w*|fujian|appendix|enclosure)(?:$|[\s_-])", re.I)
_BLOCK_LABEL_RE = re.compile(r"^(?:相关)?附\s*件(?:下载|列表)?\s*[：:]?")
_RELATED_HINTS = ("xgwz", "xglj", "related", "relevant", "paihang", "phb", "rank", "sidebar", "aside")
# `{name:"….pdf", url:"http://…"}` in a script (keys quoted or not, either order)
_JS_OBJECT_RE = re.compile(r"\{[^{}]{0,2000}\}")
_JS_NAME_RE = re.compile(r"""["']?(?:name|fileName|filename|title)["']?\s*:\s*["']([^"']+)["']""")
_JS_URL_RE = re.compile(r"""["']?(?:url|fileUrl|fileurl|href|path|link)["']?\s*:\s*["']([^"']+)["']""")
_QUOTED_RE = re.compile(r"""["']([^"']+)["']""")
_NAME_LABEL_RE = re.compile(r"^(?:相关)?附\s*件\s*\d*\s*[：:]\s*")  # `附件：X.doc` as link text names X.doc
# Page chrome where a 解读 link is a column link, not this article's interpretation.
_CHROME_TAGS = frozenset({"nav", "header", "footer", "aside"})
_CHROME_HINTS = ("nav", "menu", "position", "crumb", "bt-place", "dqwz", "location", "daohang", "footer", "header")
_CHROME_RE = re.compile("|".join(map(re.escape, _CHROME_HINTS)))  # any of them in a class/id
_CHROME_OR_RELATED_RE = re.compile("|".join(map(re.escape, _CHROME_HINTS + _RELATED_HINTS)))


@dataclass
class Link:
    name: str
    url: str


def _ext(name: str) -> str:
    return posixpath.splitext(name)[1].lower().lstrip(".")


def _names_no_file(href: str) -> bool:
    """True when attachment_filename() is None for `href` and any part of it: no `%`, no `.pdf`, `.doc` …"""
    return "%" not in href and not _EXT_HINT_RE.search(href)


def attachment_filename(href: str) -> tuple[str, str | None] | None:
    """(extension, fileName parameter) when `href` points at a file, else None."""
    if _names_no_file(href):
        return None  # most links of a page (urlsplit is slow)
    parts = urlsplit(href)
    params = {k.lower(): v for k, v in parse_qsl(parts.query)}
    param_name = next((params[k] for k in _FILENAME_PARAMS if params.get(k)), None)
    for candidate in (unquote(parts.path), param_name or ""):
        if _ext(candidate) in ATTACHMENT_EXTENSIONS:
            return _ext(candidate), param_name
    return None


def _raw_href(attrs: dict) -> str | None:
    href = (attrs.get("href") or "").strip()
    if not href or href.startswith("#") or href.lower().startswith(("javascript:", "mailto:", "tel:")):
        return None
    return href


def _hints(node: LexborNode) -> str:
    attrs = node.attributes
    return f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower()


def _link_name(node: LexborNode) -> str:
    """The link's text, else its title, else its image's alt (looked for only then: a CSS search)."""
    text = node_text(node)
    if text:
        return text
    title = node.attributes.get("title")
    if title:
        return collapse(title)
    img = css_first(node, "img[alt]")
    return collapse((img.attributes.get("alt") if img is not None else None) or "")


def _is_block(node: LexborNode) -> bool:
    """An attachment block: by class/id, or by its first words (附件：, 相关附件, 附件下载)."""
    return bool(_BLOCK_CLASS_RE.search(_hints(node)) or _BLOCK_LABEL_RE.match(_leading_text(node)))


def _leading_text(node: LexborNode, chars: int = 12) -> str:
    """The first few characters of text inside `node` (without reading the rest of it)."""
    text = ""
    for child, entering in walk(node):
        if entering and child.is_text_node:
            text = collapse(text + (child.text_content or ""))
            if len(text) >= chars:
                break
    return text


def is_storage_name(name: str) -> bool:
    """No name a person gave: empty, or a storage id (`20151110153332678.doc`, a 32-hex key)."""
    return not name or bool(_STORAGE_ID_RE.fullmatch(posixpath.splitext(name)[0]))


def _file_name(name: str) -> str:
    return "" if is_storage_name(name) else name


def _file(href: str, node: LexborNode, attrs: dict) -> str | None:
    """The link's name when it points at a file (by path, parameter, download attribute, or - in an
    attachment block - a link text that names a file), else None. The link text is read only when it
    matters: most links of a page point at no file and name none (no `.` in their text)."""
    found = attachment_filename(href)
    download = attrs.get("download") or ""
    quick = node.text(deep=True)
    if found is None and not download and "." not in quick and quick.strip():
        return None
    text = _link_name(node)
    if found is None and not download and not (_ext(text) in ATTACHMENT_EXTENSIONS and _in_block(node)):
        return None
    param = _file_name(collapse(found[1] or "")) if found else ""
    text = _NAME_LABEL_RE.sub("", text) or text
    stored = collapse(found[1] or "") if found else ""  # a storage id, still better than `downfile.jsp`
    return collapse(download) or param or text or stored or posixpath.basename(urlsplit(href).path)


def attachments(root: LexborNode, base_url: str) -> list[Link]:
    """Every file the page links outside its chrome, once per URL, in the order the files are named:
    a nameless link (an icon, a storage id) gives way to a later link that names the same file."""
    found: dict[str, Link] = {}

    def add(url: str, name: str) -> None:
        prev = found.get(url)
        if prev is None or (not _file_name(prev.name) and _file_name(name)):
            found.pop(url, None)
            found[url] = Link(name=name, url=url)

    for a in css(root, "a[href], [onclick]"):
        attrs = a.attributes
        if not attrs.get("onclick") and not attrs.get("download") and _names_no_file(attrs.get("href") or ""):
            quick = a.text(deep=True)
            if "." not in quick and quick.strip():
                continue  # its one target names no file, and neither does its text: _file() is None
        for href in _targets(attrs):
            name = _file(href, a, attrs)
            if name is None:
                continue
            url = urljoin(base_url, href)
            if (url not in found or not _file_name(found[url].name)) and not _in_chrome(a, _CHROME_OR_RELATED_RE):
                add(url, name)
    for script in css(root, "script"):
        code = script.text() or ""
        for obj in _JS_OBJECT_RE.findall(code) if _may_name_file(code) else ():
            if not _may_name_file(obj):
                continue
            name, url = _JS_NAME_RE.search(obj), _JS_URL_RE.search(obj)
            if name and url and (attachment_filename(url.group(1)) or _ext(name.group(1)) in ATTACHMENT_EXTENSIONS):
                add(urljoin(base_url, _js_string(url.group(1))), collapse(_js_string(name.group(1))))
    return list(found.values())


def _may_name_file(code: str) -> bool:
    """False only when _JS_NAME_RE or _JS_URL_RE finds nothing in `code`: it spells no key of one of them
    (most scripts of a page)."""
    return ("name" in code or "Name" in code or "title" in code) and (
        "url" in code or "Url" in code or "href" in code or "path" in code or "link" in code
    )


def _js_string(raw: str) -> str:
    """A script string's text with its escapes (`\\u6587`, `\\/`) undone."""
    try:
        return json.loads(f'"{raw}"')
    except ValueError:
        return raw


def _in_block(node: LexborNode) -> bool:
    return _is_block(node) or any(_is_block(p) for p in ancestors(node))


def _targets(attrs: dict) -> list[str]:
    """The href of a link, and file-like quoted arguments of its onclick (`download('…')`), as written."""
    hrefs = [h for h in [_raw_href(attrs)] if h]
    onclick = attrs.get("onclick") or ""
    return hrefs + [q for q in _QUOTED_RE.findall(onclick) if attachment_filename(q)] if onclick else hrefs


def _in_chrome(node: LexborNode, hints: re.Pattern = _CHROME_RE) -> bool:
    """Inside page chrome: an ancestor is a chrome element, or its class/id contains one of `hints`."""
    return any(parent.tag in _CHROME_TAGS or hints.search(_hints(parent)) for parent in ancestors(node))


def _is_column_page(url: str) -> bool:
    path = urlsplit(url).path
    return path.endswith("/") or posixpath.basename(path).startswith("index.")


def related(root: LexborNode, base_url: str, page_url: str) -> list[Link]:
    """解读 links: `a#zcjdlink`, and links whose text contains 解读 outside page chrome."""
    found: dict[str, Link] = {}
    flagged = {a.mem_id for a in css(root, _RELATED_BY_ATTRS)}  # id or title may make it one
    for a in css(root, "a[href]"):
        quick = a.text(deep=True)  # before the link's attributes (a dict each): most links say no 解读
        if "解读" not in quick and quick.strip() and a.mem_id not in flagged:
            continue  # not marked, and _may_say() is False
        attrs = a.attributes
        href = _raw_href(attrs)
        marked = attrs.get("id") == "zcjdlink"
        if href is None or not (marked or _may_say(a, attrs, "解读")):
            continue
        url = urljoin(base_url, href)
        if url in found or url == page_url:
            continue
        name = _link_name(a)
        if marked or ("解读" in name and not _in_chrome(a) and not _is_column_page(url)):
            found[url] = Link(name=name, url=url)
    return list(found.values())


def may_relate(html: str) -> bool:
    """False only when no link of the page can be a 解读 link: the page's source spells neither the
    characters of 解读 nor the id zcjdlink, nor has character references that could (most pages).
    The one-character searches first: much faster than the others, and true on most pages that relate."""
    return ("解" in html and "读" in html) or "zcjdlink" in html or "&#" in html


# The links whose attributes alone may make them 解读 links (a superset: related() decides): its
# id, or a title holding 解读 (_may_say); an image's alt only counts for a link with no text.
_RELATED_BY_ATTRS = "a[href][id='zcjdlink'], a[href][title*='解读']"


def _may_say(a: LexborNode, attrs: dict, word: str) -> bool:
    """False only when the link's name (its text, else its title or image alt) cannot contain `word`."""
    quick = a.text(deep=True)
    return (
        word in quick
        or word in (attrs.get("title") or "")
        or (not quick.strip() and css_first(a, "img[alt]") is not None)
    )
