"""bytes -> ParsedArticle: decode, parse, title, metadata, contract fields, body, links."""

from __future__ import annotations

from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scraper.decode import decode_html, sniff_binary
from scraper.parse.body import clean, find_container, plain_text, text_lines
from scraper.parse.contract import resolve
from scraper.parse.errors import EmptyPageError, NotHtmlError, ParseError
from scraper.parse.links import attachments, may_relate, related
from scraper.parse.markers import marker_text
from scraper.parse.metadata import find_block, inline_pairs, read_pairs
from scraper.parse.model import ParsedArticle
from scraper.parse.nesting import MAX_DEPTH, cap_nesting
from scraper.parse.tree import (
    STRIDE,
    Events,
    css_first,
    flatten,
    hidden_mems,
    meta_content,
    meta_map,
    node_text,
    subtree,
)

_TITLE_SELECTORS = (".con-title", ".article_title", "h1", "title")


def parse_article(body: bytes, url: str, content_type: str | None = None) -> ParsedArticle:
    """Parse one archived detail page. Raises NotHtmlError, EmptyPageError or ParseError."""
    try:
        return _parse(body, url, content_type)
    except ParseError:
        raise
    except Exception as exc:  # anything unexpected still names the page
        raise ParseError(f"unexpected {type(exc).__name__} while parsing: {exc}", url) from exc


def _base_url(tree: LexborHTMLParser, url: str) -> str:
    base = css_first(tree.root, "base[href]") if tree.tags("base") and tree.root is not None else None
    return urljoin(url, (base.attributes.get("href") or "").strip()) if base is not None else url


def _parse(body: bytes, url: str, content_type: str | None) -> ParsedArticle:
    what = sniff_binary(body)
    if what:
        raise NotHtmlError(f"body is {what}", url)
    text, encoding = decode_html(body, content_type)
    warnings: list[str] = []
    if encoding.endswith("-replace"):
        warnings.append(
            f"bytes did not decode cleanly: read as {encoding.removesuffix('-replace')} with replacement characters"
        )
    text, capped = cap_nesting(text)
    if capped:
        warnings.append(f"tags nested deeper than {MAX_DEPTH} levels were dropped")
    tree = LexborHTMLParser(text)
    root = tree.root
    if root is None:
        raise EmptyPageError("no title and no body found", url)
    base = _base_url(tree, url)

    events = flatten(root)  # the page walked once, for the readers below (until the body search prunes it)
    mems = events[4::STRIDE]  # where in it each node is (tree.subtree)
    hidden = hidden_mems(root)  # before the tree changes: the readers of slices of `events` share it
    block = find_block(root, events)
    block_events = subtree(events, mems, block) if block is not None else None
    fields = {}
    if block is not None:
        fields = read_pairs(block, block_events, hidden if block_events is not None else None)
    inline = inline_pairs(text_lines(root, block, events, hidden, colons_only=True))  # the lines outside the block
    jcms = "<$[" in text  # Hanweb jcms template markers: looked for only on pages that have some
    values, explain = resolve(fields, inline, _hints(tree, root, jcms, events), warnings)
    related_links = related(root, base, url) if may_relate(text) else []  # before the body search prunes the tree
    files = attachments(root, base)  # likewise: the blocks around the body count too

    body_text = ""
    found = find_container(root, jcms, events)
    if found is not None:
        container = found[0]
        removed = clean(container, block)
        # the container's events from the page's, but after a jcms marker search (it may prune the tree)
        body_events = None if jcms else subtree(events, mems, container, removed)
        body_text = plain_text(container, events=body_events, hidden_ids=hidden if body_events is not None else None)

    if not values["title"] and not body_text:
        raise EmptyPageError("no title and no body found: not a document page", url)
    if block is None:
        warnings.append("no metadata block found")
    if found is None:
        warnings.append("no body container found")
    elif not body_text:
        warnings.append("body container is empty")
    if not values["title"]:
        warnings.append("no title found")
    return ParsedArticle(
        **values,
        fields=fields,
        body_text=body_text,
        attachments=files,
        related=related_links,
        encoding=encoding,
        has_metadata=block is not None,
        warnings=warnings,
        explain=explain,
    )


def _hints(tree: LexborHTMLParser, root: LexborNode, jcms: bool, events: Events) -> dict[str, tuple[str | None, str]]:
    """Page-level values (a <meta>, a jcms marker, a title element) and where each came from."""
    metas = meta_map(tree)
    title, where = meta_content(tree, "ArticleTitle", metas=metas), "<meta ArticleTitle>"
    if not title and jcms:
        title, where = marker_text(root, "标题名称(html)", events), "jcms marker 标题名称"
    for selector in _TITLE_SELECTORS:
        if title:
            break
        node = css_first(root, selector)
        title, where = (node_text(node) if node is not None else None), f"the page's {selector} element"
    publisher, by = meta_content(tree, "ContentSource", metas=metas), "<meta ContentSource>"
    if not publisher and jcms:
        publisher, by = marker_text(root, "信息来源", events), "jcms marker 信息来源"
    return {
        "title": (title or None, where),
        "publisher": (publisher, by),
        "publish_date": (meta_content(tree, "PubDate", "firstpublishedtime", metas=metas), "<meta PubDate>"),
    }
