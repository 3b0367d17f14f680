"""The page's events (tree.flatten) and the readers that share them give what reading the tree gives."""

import pytest
from example_pages import examples
from selectolax.lexbor import LexborHTMLParser

from scraper.decode import decode_html
from scraper.parse import parse_article
from scraper.parse.body import clean, find_container, plain_text, text_lines
from scraper.parse.metadata import find_block
from scraper.parse.tree import ELEMENT, SKIPPED, STRIDE, TEXT, each, flatten, hidden_mems, subtree

URL = "http://www.example.gov.cn/art/2025/1/2/art_1_2.html"
TABLE = "<table>{}<tr><td>文号：</td><td>锡发改〔2026〕1号</td></tr></table><div id='zoom'><p>正文</p></div>"


def tree(html: str) -> LexborHTMLParser:
    return LexborHTMLParser(f"<html><head><title>t</title></head><body>{html}</body></html>")


def test_events_name_skipped_elements_and_let_text_nodes_go():
    events = flatten(tree("<div>a<script>var x;</script><!--c--><p>b</p></div>").root)
    assert len(events) % STRIDE == 0
    kinds = [(kind, tag, text) for kind, _, _, tag, _, text in each(events)]
    assert (SKIPPED, "head", "") in kinds and (SKIPPED, "script", "") in kinds
    assert [text for kind, _, _, _, _, text in each(events) if kind == TEXT] == ["a", "b"]
    assert all(node is None for kind, node, *_ in each(events) if kind == TEXT)
    assert all(node is not None for kind, node, *_ in each(events) if kind != TEXT)


def test_a_label_that_starts_inside_a_skipped_element_still_counts_for_the_block():
    """The block search reads an element's first character off the events; lexbor's text() of the cell
    starts with the button's text, so `<button>索引号</button>：` is a label there (as before)."""
    record = parse_article(TABLE.format("<tr><td><button>索引号</button>：</td><td>X</td></tr>").encode(), URL)
    assert record.has_metadata
    record = parse_article(TABLE.format("<tr><td><script>var x;</script>索引号：</td><td>X</td></tr>").encode(), URL)
    assert not record.has_metadata  # the cell's text() starts with the script: no label


def test_a_removed_skipped_element_is_cut_from_the_body_events():
    page = tree("<div id='zoom'><p>正文</p><button class='share'>分享</button><p>尾</p></div>")
    events = flatten(page.root)
    container, _ = find_container(page.root, False, events)
    removed = clean(container, None)
    assert removed
    body_events = subtree(events, events[4::STRIDE], container, removed)
    assert body_events == flatten(container)
    assert plain_text(container, events=body_events) == "正文\n尾"


@pytest.mark.parametrize("page", examples(), ids=lambda e: f"{e.family}/{e.name}")
def test_colon_lines_are_the_plain_text_lines_with_a_colon(page):
    root = LexborHTMLParser(decode_html(page.html.read_bytes(), "text/html")[0]).root
    events, hidden = flatten(root), hidden_mems(root)
    block = find_block(root, events)
    lines = plain_text(root, block, events, hidden).splitlines()
    colon = text_lines(root, block, events, hidden, colons_only=True)
    assert colon == [line for line in lines if "：" in line or ":" in line]
    assert any(kind == ELEMENT for kind, *_ in each(events))
