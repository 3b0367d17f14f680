"""The metadata block (索引号 / 文号 / 公开日期 … header): find it, read it label -> value.

The block is the smallest table/ul/dl/div holding >= 2 known labels (not only byline
labels such as 发布时间/来源). It is read cell by cell, never by position: a label takes
the next cell as its value unless that cell is itself a label, so an empty value
(Kaihua's `文号： | | 公开日期： | 2025-03-05`) never shifts the pairs after it.
"""

from __future__ import annotations

from selectolax.lexbor import LexborNode

from scraper.parse.labels import BYLINE_LABELS, is_known, normalise_label
from scraper.parse.tree import ancestors, collapse, walk

CONTAINER_TAGS = frozenset({"table", "ul", "ol", "dl", "div", "section", "form", "article"})
# Elements whose text may be a label ("索引号：", "<b>索 引 号：</b>", "<li>文号：…</li>").
_LABEL_TAGS = frozenset({"td", "th", "dt", "dd", "li", "p", "span", "b", "strong", "label", "font", "em", "div", "h4", "h5"})
CELL_TAGS = frozenset({"td", "th", "dt", "dd", "li"})
_BREAK_TAGS = frozenset({"p", "div", "tr", "table", "tbody", "thead", "tfoot", "ul", "ol", "dl", "h1", "h2", "h3",
                         "h4", "h5", "h6", "section", "hr", "caption", "br"})
_MAX_LABEL_CHARS = 12


def _split_colon(text: str) -> tuple[str, str] | None:
    """("label", "rest") at the first ：/: within a label's length, else None."""
    for i, ch in enumerate(text[: _MAX_LABEL_CHARS * 3]):
        if ch in "：:":
            return text[:i], text[i + 1:]
    return None


def classify(text: str) -> list[tuple[str, str]]:
    """One collapsed run -> [("label", L)], [("label", L), ("value", V)] or [("value", V)]."""
    split = _split_colon(text)
    if split is not None:
        label, rest = normalise_label(split[0]), collapse(split[1])
        if not rest and 0 < len(label) <= _MAX_LABEL_CHARS:
            return [("label", label)]
        if rest and is_known(label):
            return [("label", label), ("value", rest)]
    elif is_known(normalise_label(text)):
        return [("label", normalise_label(text))]
    return [("value", text)]


def known_label(node: LexborNode) -> str | None:
    """The known label an element's text starts with, if any."""
    text = collapse(node.text(deep=True))  # lexbor's own text(): fast, fine for short cells
    if not text or len(text) > 200:
        return None
    split = _split_colon(text)
    label = normalise_label(split[0] if split else text)
    return label if is_known(label) else None


def find_block(root: LexborNode) -> LexborNode | None:
    """The smallest container with >= 2 known labels (most labels wins among those)."""
    labels: dict[int, set[str]] = {}
    nodes: dict[int, LexborNode] = {}
    parents: dict[int, list[int]] = {}
    seen: set[int] = set()
    for node, entering in walk(root):
        if not (entering and node.is_text_node and (node.text_content or "").strip()):
            continue
        element = node.parent
        if element is None or element.mem_id in seen or element.tag not in _LABEL_TAGS:
            continue
        seen.add(element.mem_id)
        label = known_label(element)
        if label is None:
            continue
        for container in ancestors(element):
            if container.tag in CONTAINER_TAGS:
                key = container.mem_id
                nodes.setdefault(key, container)
                labels.setdefault(key, set()).add(label)
    candidates = [k for k, found in labels.items() if len(found) >= 2 and found - BYLINE_LABELS]
    for key in candidates:
        parents[key] = [a.mem_id for a in ancestors(nodes[key])]
    not_minimal = {p for key in candidates for p in parents[key]}
    minimal = [k for k in candidates if k not in not_minimal]
    if not minimal:
        return None
    best = max(minimal, key=lambda k: len(labels[k]))  # max() keeps the first on ties
    return nodes[best]


class _Tokens:
    """Label/value tokens of a block, one run of text at a time."""

    def __init__(self) -> None:
        self.tokens: list[tuple[str, str, int | None]] = []
        self.run: list[str] = []
        self.cells: list[tuple[int, int]] = []  # (cell id, token count at cell start)
        self._next_cell = 0

    @property
    def cell(self) -> int | None:
        return self.cells[-1][0] if self.cells else None

    def run_is_label(self) -> bool:
        return self._run_kinds() == ["label"]

    def run_is_pair(self) -> bool:
        """`索引号：X` outside any cell: a next element starts the next pair (`<span>…</span><span>…</span>`)."""
        return not self.cells and self._run_kinds() == ["label", "value"]

    def _run_kinds(self) -> list[str]:
        text = collapse("".join(self.run))
        return [kind for kind, _ in classify(text)] if text else []

    def flush(self) -> None:
        text = collapse("".join(self.run))
        self.run.clear()
        if text:
            for kind, value in classify(text):
                self.add(kind, value)

    def add(self, kind: str, text: str) -> None:
        last = self.tokens[-1] if self.tokens else None
        if kind == "value" and last and last[0] == "label" and text[:1] in "：:" and text:
            text = collapse(text[1:])  # `<th>发布<span>机构</span>：</th>`: the colon closes the label
            if not text:
                return
        if kind == "value" and last and last[0] == "value" and last[2] is not None and last[2] == self.cell:
            self.tokens[-1] = ("value", collapse(f"{last[1]} {text}"), last[2])
        else:
            self.tokens.append((kind, text, self.cell))

    def open_cell(self) -> None:
        self.flush()
        self.cells.append((self._next_cell, len(self.tokens)))
        self._next_cell += 1

    def close_cell(self) -> None:
        self.flush()
        if self.cells and len(self.tokens) == self.cells[-1][1]:
            self.add("value", "")  # an empty cell is still a cell
        if self.cells:
            self.cells.pop()


def _tokenise(block: LexborNode) -> list[tuple[str, str, int | None]]:
    tok = _Tokens()
    for node, entering in walk(block):
        if node.is_text_node:
            tok.run.append(node.text_content or "")
            continue
        tag = node.tag
        if not node.is_element_node:
            continue
        if tag in CELL_TAGS and entering:
            tok.open_cell()
        elif tag in CELL_TAGS:
            tok.close_cell()
        elif tag == "br" and tok.cells:
            tok.run.append(" ")  # `<th>索<br>引<br>号：</th>` is one label
        elif tag in _BREAK_TAGS or tok.run_is_label() or (entering and tok.run_is_pair()):
            tok.flush()
    tok.flush()
    return tok.tokens


def read_pairs(block: LexborNode) -> dict[str, str]:
    """Every label -> value pair of the block, in document order; empty values kept as ""."""
    tokens = _tokenise(block)
    fields: dict[str, str] = {}
    for i, (kind, label, _) in enumerate(tokens):
        if kind != "label":
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        value = nxt[1] if nxt is not None and nxt[0] == "value" else ""
        if label not in fields or (not fields[label] and value):
            fields[label] = value
    return fields
