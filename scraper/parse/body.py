"""The article body: pick the content container, clean it, render plain text."""

from __future__ import annotations

from selectolax.lexbor import LexborNode

from scraper.parse.markers import marker_container
from scraper.parse.tree import (
    ELEMENT,
    TEXT,
    Events,
    collapse,
    css,
    css_first,
    each,
    flatten,
    has_text,
    hidden_mems,
    is_inside,
)

# portals.md §2.1, most specific first; `.content` is the last resort.
CONTAINER_SELECTORS = (
    "#zoom",
    ".zoom",
    ".bt-content",
    ".TRS_Editor",
    ".trs_editor_view",
    ".TRS_UEDITOR",
    "#UCAP-CONTENT",
    ".article_con",
    ".main-txt",
    "#zoomcon",
    ".article-content",
    ".article_content",
    "#ivs_content",
    ".pages_content",
    "div.zwnr",
    "div.wip_art_con",
    ".art_con",
    "div.zw",
    ".content",
)
# Never body text: page chrome, share widgets and embedded metadata tables.
NOISE_SELECTORS = (
    "nav, header, footer, table.xxgk_table, table.xxgktab, div.xxgk-table, "
    "#share, .share, .bdsharebuttonbox, .bshare-custom, .jiathis_style, "
    "[id^='qr_'], [id*='qrcode'], [class*='qrcode']"  # 扫一扫在手机打开当前页 (a QR code of the page)
)
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "section",
        "article",
        "blockquote",
        "pre",
        "hr",
        "center",
        "form",
        "address",
        "figure",
        "figcaption",
        "caption",
        "header",
        "footer",
    }
)
_CELL_TAGS = frozenset({"td", "th"})


def _has_content(node: LexborNode) -> bool:
    return has_text(node) or css_first(node, "a[href], img") is not None


def find_container(root: LexborNode, jcms: bool = True, events: Events | None = None) -> tuple[LexborNode, str] | None:
    """(container, how it was found): the jcms 信息内容 markers (when the page may have any), then
    CONTAINER_SELECTORS. `events`: flatten(root), when already made."""
    marked = marker_container(root, "信息内容", events) if jcms else None
    if marked is not None and _has_content(marked):
        return marked, "jcms marker"
    for selector in CONTAINER_SELECTORS:
        for node in css(root, selector):
            if _has_content(node):
                return node, selector
    return _most_paragraphs(root)


def _most_paragraphs(root: LexborNode) -> tuple[LexborNode, str] | None:
    """No known container: the element whose own <p> children hold the most text (an article body is
    a run of paragraphs; navigation and footers are links and lists), outside page chrome."""
    best, best_len = None, 0
    for parent in {p.parent.mem_id: p.parent for p in css(root, "p") if p.parent is not None}.values():
        if parent.tag in ("nav", "header", "footer", "li", "a", "html", "body"):
            continue
        size = sum(len(collapse(p.text(deep=True))) for p in parent.iter() if p.tag == "p")
        if size > best_len:
            best, best_len = parent, size
    return (best, "most paragraph text") if best is not None and best_len >= 20 else None


def clean(container: LexborNode, block: LexborNode | None) -> list[int]:
    """Drop noise and the metadata block from inside the container (mutates the tree); returns the
    mem_ids of the elements dropped (tree.subtree() leaves them out of the page's events)."""
    removed = []
    for node in css(container, NOISE_SELECTORS):
        removed.append(node.mem_id)
        node.decompose()
    if block is not None and is_inside(block, container) and not is_inside(container, block):
        removed.append(block.mem_id)
        block.decompose()
    return removed


def plain_text(
    container: LexborNode,
    skip: LexborNode | None = None,
    events: Events | None = None,
    hidden_ids: set[int] | None = None,
) -> str:
    """Block elements break lines, a table row's cells are joined by one space,
    whitespace collapses within a line, empty lines are dropped; hidden elements (and `skip`) say nothing.
    `events`: flatten(container), when already made; `hidden_ids`: hidden_mems() of the container or of
    a node around it, when already found (read, not changed)."""
    return "\n".join(text_lines(container, skip, events, hidden_ids))


def text_lines(
    container: LexborNode,
    skip: LexborNode | None = None,
    events: Events | None = None,
    hidden_ids: set[int] | None = None,
    colons_only: bool = False,
) -> list[str]:
    """plain_text()'s lines; `colons_only`: only those holding a colon (：or :), the lines a `label：value`
    may be in (the others are not collapsed: most of a page)."""
    lines: list[str] = []
    current: list[str] = []
    in_cell = hidden = 0
    quiet = set(hidden_mems(container) if hidden_ids is None else hidden_ids)
    if skip is not None:
        quiet.add(skip.mem_id)

    for kind, _, entering, tag, mem, text in each(flatten(container) if events is None else events):
        if kind == TEXT:
            if not hidden:
                current.append(text)
            continue
        if kind != ELEMENT:
            continue
        if mem in quiet:
            hidden += 1 if entering else -1
        if tag in _CELL_TAGS:
            in_cell += 1 if entering else -1
            current.append(" ")
        elif tag in _BLOCK_TAGS:
            if in_cell > 0:
                current.append(" ")  # a paragraph inside a cell stays on the row's line
            elif current:  # a line break: the line so far, whitespace collapsed, unless empty
                line = "".join(current)
                current.clear()
                if not colons_only or "：" in line or ":" in line:
                    line = collapse(line)
                    if line:
                        lines.append(line)
    line = collapse("".join(current))
    if line and (not colons_only or "：" in line or ":" in line):
        lines.append(line)
    return lines
