"""The metadata block (索引号 / 文号 / 公开日期 … header): find it, read it label -> value.

The block is the smallest table/ul/dl/div holding >= 2 known labels (not only byline
labels such as 发布时间/来源); of two copies (desktop table + mobile list, or one hidden) the
plainly visible one. It is read cell by cell, never by position: a label takes the next cell
as its value unless that cell is itself a label, so an empty value (Kaihua's
`文号： | | 公开日期： | 2025-03-05`) never shifts the pairs after it. One value per label:
the visible copy first, identical repeats collapsed.

Pages without a block (or with fields it lacks) give `label：value` runs in lines of text
(`发文字号：莆市安监〔2016〕46号　成文日期：2016-05-04`): `inline_pairs` reads those.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from selectolax.lexbor import LexborNode

from scraper.parse.labels import (
    BYLINE_LABELS,
    FALLBACK_LABELS,
    FIELD_LABELS,
    INLINE_ONLY_LABELS,
    KNOWN_LABELS,
    is_known,
    normalise_label,
)
from scraper.parse.tree import (
    BLANKS,
    CONDITIONAL_ATTRS,
    ELEMENT,
    HIDDEN_CANDIDATES,
    SKIPPED,
    TEXT,
    Events,
    ancestors,
    collapse,
    css,
    each,
    flatten,
    maybe_hidden,
)

CONTAINER_TAGS = frozenset({"table", "ul", "ol", "dl", "div", "section", "form", "article"})
# Elements whose text may be a label ("索引号：", "<b>索 引 号：</b>", "<li>文号：…</li>").
_LABEL_TAGS = frozenset(
    {"td", "th", "dt", "dd", "li", "p", "span", "b", "strong", "label", "font", "em", "div", "h4", "h5"}
)
CELL_TAGS = frozenset({"td", "th", "dt", "dd", "li"})
_BREAK_TAGS = frozenset(
    {
        "p",
        "div",
        "tr",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "ul",
        "ol",
        "dl",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "hr",
        "caption",
        "br",
    }
)
_MAX_LABEL_CHARS = 12
# The elements maybe_hidden() may find hidden (a superset: it decides): HIDDEN_CANDIDATES, or any switch
_SWITCHED = ", ".join(f"[{a}]" for a in CONDITIONAL_ATTRS)
_MAYBE_HIDDEN = HIDDEN_CANDIDATES + ", " + _SWITCHED
_FIRST_CHARS = frozenset(label[0] for label in KNOWN_LABELS)
_FIRST_RE = re.compile(r"[\s\u200b\ufeff]*(.)", re.S)  # the first character that is no space


def _split_colon(text: str) -> tuple[str, str] | None:
    """("label", "rest") at the first ：/: within a label's length, else None."""
    end = _MAX_LABEL_CHARS * 3
    i = text.find("：", 0, end)
    colon = text.find(":", 0, end if i < 0 else i)  # the first of the two
    if colon >= 0:
        i = colon
    return (text[:i], text[i + 1 :]) if i >= 0 else None


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


@lru_cache(maxsize=4096)
def _classify(text: str) -> tuple[tuple[str, str], ...]:
    """classify(text), kept: a block's labels are the same few runs on every page of a portal."""
    return tuple(classify(text))


def known_label(node: LexborNode) -> str | None:
    """The known label an element's text starts with, if any."""
    return _label_of(node.text(deep=True))  # lexbor's own text(): fast, fine for short cells


@lru_cache(maxsize=4096)
def _label_of(raw: str) -> str | None:
    """known_label() of an element whose text is `raw`: the same few label cells on every page."""
    first = _FIRST_RE.match(raw)  # a label's first character is the text's first one (most texts are no label)
    if first is None or first.group(1) not in _FIRST_CHARS:
        return None
    text = collapse(raw)
    if not text or len(text) > 200:
        return None
    split = _split_colon(text)
    label = normalise_label(split[0] if split else text)
    return label if is_known(label) else None


_UNSURE = "unsure"  # an element's text may start with a skipped element's (a script's): known_label() reads it


def find_block(root: LexborNode, events: Events | None = None) -> LexborNode | None:
    """The smallest container with >= 2 known labels (most labels wins among those).
    `events`: flatten(root), when already made."""
    labels: dict[int, set[str]] = {}  # container -> the labels below it (the containers in the order they end)
    nodes: dict[int, LexborNode] = {}
    seen: set[int] = set()
    # root, then the elements around the event: [node, tag, mem_id, the first character of its text so far
    # (known_label()'s first test, without its node.text()): "" none yet (the innermost few) or _UNSURE,
    # the labels of the elements below it so far (None: none yet)]
    open_: list[list] = [[root, root.tag, root.mem_id, "", None]]
    root_labels: set[str] = set()  # labels of root itself: its ancestors have them
    for kind, node, entering, tag, mem, text in each(flatten(root) if events is None else events):
        if kind == ELEMENT:
            if entering:
                open_.append([node, tag, mem, "", None])
                continue
            found = open_.pop()[4]
            if found is not None:  # its labels are its parent's too
                if tag in CONTAINER_TAGS:
                    nodes[mem], labels[mem] = node, found
                    found = set(found)
                above = open_[-1]
                if above[4] is None:
                    above[4] = found
                else:
                    above[4] |= found
            continue
        if kind == SKIPPED:
            _start(open_, _UNSURE)
            continue
        if kind != TEXT or not text.strip():
            continue
        element = open_[-1]  # the text's parent
        if not element[3]:
            _start(open_, text.lstrip(BLANKS)[:1])
        if element[2] in seen or element[1] not in _LABEL_TAGS:
            continue
        seen.add(element[2])
        first = element[3]
        if first and first is not _UNSURE and first not in _FIRST_CHARS:
            continue  # known_label() is None
        label = known_label(element[0])
        if label is None:
            continue
        if len(open_) == 1:
            root_labels.add(label)
        elif open_[-2][4] is None:
            open_[-2][4] = {label}
        else:
            open_[-2][4].add(label)
    below_root = open_[0][4]
    if below_root is not None or root_labels:
        if below_root is not None and open_[0][1] in CONTAINER_TAGS:
            nodes[open_[0][2]], labels[open_[0][2]] = root, below_root
        every = (below_root or set()) | root_labels
        for ancestor in ancestors(root):
            if ancestor.tag in CONTAINER_TAGS:
                nodes[ancestor.mem_id], labels[ancestor.mem_id] = ancestor, every
    candidates = [k for k, found in labels.items() if len(found) >= 2 and found - BYLINE_LABELS]
    not_minimal: set[int] = set()  # every candidate's ancestors
    for key in candidates:
        for ancestor in ancestors(nodes[key]):
            if ancestor.mem_id in not_minimal:
                break  # and so are all above it: each walk goes on to the root or to one already walked
            not_minimal.add(ancestor.mem_id)
    minimal = [k for k in candidates if k not in not_minimal]
    if len(minimal) <= 1:
        return nodes[minimal[0]] if minimal else None
    # the visible copy first, then the most labels; max() keeps the first on ties
    best = max(minimal, key=lambda k: (not _in_hidden(nodes[k]), len(labels[k])))
    return nodes[best]


def _start(open_: list[list], first: str) -> None:
    """`first` starts the text of the open elements whose text has no start yet (the innermost ones)."""
    i = len(open_) - 1
    while first and i >= 0 and not open_[i][3]:
        open_[i][3] = first
        i -= 1


def _in_hidden(node: LexborNode) -> bool:
    return maybe_hidden(node) or any(maybe_hidden(a) for a in ancestors(node))


class _Tokens:
    """Label/value tokens of a block, one run of text at a time."""

    def __init__(self) -> None:
        self.tokens: list[tuple[str, str, int | None, bool]] = []  # (kind, text, cell, hidden)
        self.run: list[str] = []
        self.hidden = 0  # depth of maybe-hidden elements around the run
        self.cells: list[tuple[int, int]] = []  # (cell id, token count at cell start)
        self._next_cell = 0
        self._memo: tuple[int, Sequence[tuple[str, str]]] | None = None  # (len(run), classify() of it)

    @property
    def cell(self) -> int | None:
        return self.cells[-1][0] if self.cells else None

    def run_is_label(self) -> bool:
        return self._run_kinds() == ["label"]

    def run_is_pair(self) -> bool:
        """`索引号：X` outside any cell: a next element starts the next pair (`<span>…</span><span>…</span>`)."""
        return not self.cells and self._run_kinds() == ["label", "value"]

    def _run_kinds(self) -> list[str]:
        return [kind for kind, _ in self._classified()]

    def _classified(self) -> Sequence[tuple[str, str]]:
        """classify() of the run's collapsed text ([] when empty), made once per run: asked at every
        element of a block, the run grows only by appends and is emptied only by flush()."""
        if not self.run:
            return ()
        if self._memo is None or self._memo[0] != len(self.run):
            text = collapse("".join(self.run))
            self._memo = (len(self.run), _classify(text) if text else ())
        return self._memo[1]

    def flush(self) -> None:
        if not self.run:
            return  # nothing to classify (and no memo: one is made only of a run)
        classified = self._classified()
        self.run.clear()
        self._memo = None
        for kind, value in classified:
            self.add(kind, value)

    def add(self, kind: str, text: str) -> None:
        last = self.tokens[-1] if self.tokens else None
        hidden = self.hidden > 0
        text = _undouble(text) if kind == "value" else text
        if kind == "value" and last and last[0] == "label" and text[:1] in "：:" and text:
            text = collapse(text[1:])  # `<th>发布<span>机构</span>：</th>`: the colon closes the label
            if not text:
                return
        if kind == "value" and last and last[0] == "value" and last[2] is not None and last[2] == self.cell:
            if hidden and not last[3] or text == last[1]:
                return  # a hidden or identical repeat of the value in the same cell
            merged = text if last[3] and not hidden else collapse(f"{last[1]} {text}")
            self.tokens[-1] = ("value", merged, last[2], hidden)
        else:
            self.tokens.append((kind, text, self.cell, hidden))

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


def _undouble(text: str) -> str:
    """`市发改委市发改委` / `废止 废止` (a copy printed twice in one cell) -> the copy."""
    half = text[: len(text) // 2].strip()
    return half if len(half) >= 2 and text.replace(" ", "") == half.replace(" ", "") * 2 else text


def _tokenise(
    block: LexborNode, events: Events | None = None, hidden_ids: set[int] | None = None
) -> list[tuple[str, str, int | None, bool]]:
    tok = _Tokens()
    tok.hidden = int(_in_hidden(block))
    # maybe-hidden elements found once by CSS (most elements carry none of those attributes): the hidden
    # ones (hidden_mems(), maybe found already) and those with a script switch
    if hidden_ids is None:
        hides = {n.mem_id for n in css(block, _MAYBE_HIDDEN) if maybe_hidden(n)}
    else:
        hides = hidden_ids | {n.mem_id for n in css(block, _SWITCHED)}
    for kind, _, entering, tag, mem, text in each(flatten(block) if events is None else events):
        if kind == TEXT:
            tok.run.append(text)
            continue
        if kind != ELEMENT:
            continue
        if mem in hides:
            tok.flush()
            tok.hidden += 1 if entering else -1
        if tag in CELL_TAGS:
            if entering:
                tok.open_cell()
            else:
                tok.close_cell()
        elif tag == "br" and tok.cells:
            tok.run.append(" ")  # `<th>索<br>引<br>号：</th>` is one label
        elif tag in _BREAK_TAGS or (tok.run and (tok.run_is_label() or (entering and tok.run_is_pair()))):
            tok.flush()  # (an empty run: nothing to flush)
    tok.flush()
    return tok.tokens


def read_pairs(block: LexborNode, events: Events | None = None, hidden_ids: set[int] | None = None) -> dict[str, str]:
    """Every label -> value pair of the block, in document order; empty values kept as "";
    a visible value wins over a hidden one, the first over later ones. `events`: flatten(block), when made;
    `hidden_ids`: hidden_mems() of the block or of a node around it, when found (read, not changed)."""
    tokens = _tokenise(block, events, hidden_ids)
    fields: dict[str, str] = {}
    hidden: dict[str, bool] = {}
    for i, (kind, label, _, label_hidden) in enumerate(tokens):
        if kind != "label":
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        value = nxt[1] if nxt is not None and nxt[0] == "value" else ""
        is_hidden = label_hidden or (nxt is not None and nxt[3])
        better = (
            (not fields[label] and value) or (hidden[label] and not is_hidden and value) if label in fields else True
        )
        if better:
            fields[label], hidden[label] = value, is_hidden
    return fields


_FIELD_LABELS = {
    label
    for labels in (*FIELD_LABELS.values(), *FALLBACK_LABELS.values(), *INLINE_ONLY_LABELS.values())
    for label in labels
}
_INLINE_LABELS = sorted(
    KNOWN_LABELS | _FIELD_LABELS, key=len, reverse=True
)  # every known label ends the value before it
# `索 引 号：` spaced any way, then a colon; _inline_labels() adds: not the tail of a longer word (组配分类
# is no 分类). Without a lookbehind first, every branch starts with a character: the regex engine skips
# to a label's first character instead of trying each branch at every position.
_INLINE_RE = re.compile(
    r"(?:"
    + "|".join(r"[\s\u200b\ufeff]*".join(map(re.escape, label)) for label in _INLINE_LABELS)
    + r")(?=[\s\u200b\ufeff]*[：:])"
)
_MAX_LINE = 300


def _inline_labels(line: str) -> list[re.Match]:
    """The matches of `(?<![\u4e00-\u9fff])` + _INLINE_RE that finditer() would give: a match after a CJK
    character is none, and the search goes on from its next character (as a failed lookbehind would)."""
    found, pos, search = [], 0, _INLINE_RE.search
    while (m := search(line, pos)) is not None:
        start = m.start()
        if start and "\u4e00" <= line[start - 1] <= "\u9fff":
            pos = start + 1
        else:
            found.append(m)
            pos = m.end()
    return found


def inline_pairs(lines: list[str]) -> dict[str, str]:
    """`label：value` runs in lines of text (the first value per label); a value ends where the next label starts."""
    pairs: dict[str, str] = {}
    for line in lines:
        if len(line) > _MAX_LINE or ("：" not in line and ":" not in line):  # no colon: no label
            continue
        found = _inline_labels(line)
        for m, nxt in zip(found, found[1:] + [None]):
            value = line[m.end() : nxt.start() if nxt else len(line)]
            value = collapse(value.lstrip(" \u3000\xa0").lstrip("：:"))
            label = normalise_label(m.group(0))
            if value and label in _FIELD_LABELS and label not in pairs:
                pairs[label] = value
    return pairs
