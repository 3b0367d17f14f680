"""DOM helpers over selectolax (lexbor) nodes: iterative walks, ancestry, whitespace.

Everything iterates with explicit parent/sibling pointers: no recursion, so deeply
nested pages cannot hit Python's recursion limit.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence

from selectolax.lexbor import LexborCSSSelector, LexborNode

# Subtrees that never carry document text.
SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "embed", "head", "select", "button"}
)

_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# The elements is_hidden() may find hidden, by CSS (a superset: is_hidden decides): a style it can match
# holds `none` or `dden` in some case (no other character matches those letters case-blind), or `hidden`.
HIDDEN_CANDIDATES = "[hidden], [style*='none' i], [style*='dden' i]"
# Script-framework switches (Avalon ms-if/ms-visible, Vue v-if/v-show): shown or not at run time.
CONDITIONAL_ATTRS = ("ms-if", "ms-visible", "v-if", "v-show")


_engines = threading.local()


def _engine() -> LexborCSSSelector:
    try:
        return _engines.css
    except AttributeError:
        _engines.css = LexborCSSSelector()
        return _engines.css


def css(node: LexborNode, query: str) -> list[LexborNode]:
    """node.css(query), by one CSS engine per thread: selectolax makes a new one for each parsed page
    on its first query (~40 us: more than parsing a small page). `node` is in a whole document (a
    fragment's root would need the wrapper node.css() goes through)."""
    return _engine().find(query, node)


def css_first(node: LexborNode, query: str) -> LexborNode | None:
    """node.css_first(query), by the thread's CSS engine (css())."""
    found = _engine().find_first(query, node)  # type: ignore[attr-defined]  # in selectolax, not in its stubs
    return found[0] if found else None


# What str.split(), str.strip() and re's \s take for whitespace (the same code points), and the two
# zero-width characters words() adds.
BLANKS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\u200b\ufeff"
)


def words(text: str) -> list[str]:
    """The runs of `text` between its whitespace (NBSP, U+3000, zero-width): the non-empty parts of
    `re.split(r"[\\s\\u200b\\ufeff]+", text)`, 2-10x faster: str.split()'s whitespace is re's \\s (the
    same test of every code point); the two zero-width characters are added."""
    if "\u200b" in text or "\ufeff" in text:
        text = text.replace("\u200b", " ").replace("\ufeff", " ")
    return text.split()


def collapse(text: str) -> str:
    """Collapse all whitespace (NBSP, U+3000, zero-width) to one space and strip."""
    return " ".join(words(text))


def walk(root: LexborNode, skip: frozenset[str] = SKIP_TAGS) -> Iterator[tuple[LexborNode, bool]]:
    """Depth-first (node, entering) events below `root`, lazily (a reader may stop early); elements
    also get an exit event. flatten() makes the same events as a list (and marks the skipped elements),
    faster, for readers of them all."""
    node = root.child
    while node is not None:
        tag = node.tag
        is_element = node.is_element_node
        if is_element and tag in skip:
            child = None
        else:
            yield node, True
            child = node.child if is_element else None
        if child is not None:
            node = child
            continue
        if is_element and tag not in skip:
            yield node, False
        while node is not None and node.next is None:
            node = node.parent
            if node is None or node.mem_id == root.mem_id:
                return
            yield node, False
        node = node.next if node is not None else None


# What flatten() records of a node: its kind, then for elements the tag, for text nodes the text.
TEXT, ELEMENT, OTHER, SKIPPED = 0, 1, 2, 3
# One event: (kind, node, entering, tag, mem_id, text); the node of an element, comment, other or skipped
# node, None for text (a text node's object is let go as soon as its text is read).
Event = tuple[int, LexborNode | None, bool, str | None, int, str]
# Events, flat: each event is STRIDE items in a row, read by each(). No tuple per event: a page's events
# then hold no object the garbage collector tracks but the element nodes (with a tuple and a node object
# per node, the collector ran a few times a page and walked them all: a tenth of a parse).
Events = list
STRIDE = 6


def each(events: Events) -> Iterator[Event]:
    """The events, one tuple at a time (zip hands the same tuple back when the reader let go of it)."""
    items = iter(events)
    return zip(items, items, items, items, items, items)


def flatten(root: LexborNode, skip: frozenset[str] = SKIP_TAGS) -> Events:
    """walk()'s events below `root`, each with what its readers ask of the node (asked once: every
    property read of a lexbor node makes a Python object). Elements get an exit event too; text, comments
    and other nodes only an entering one; a `skip` element one SKIPPED event (its text is no document
    text, but lexbor's node.text() reads it), and nothing below it."""
    events: Events = []
    add = events.extend
    open_: list[tuple[LexborNode, str, int]] = []  # the elements entered and not yet left
    node = root.first_child
    while True:
        while node is not None:
            if node.is_text_node:
                add((TEXT, None, True, None, node.mem_id, node.text_content or ""))
            elif node.is_element_node:
                tag = node.tag
                if tag in skip:
                    add((SKIPPED, node, True, tag, node.mem_id, ""))
                else:
                    mem = node.mem_id
                    add((ELEMENT, node, True, tag, mem, ""))
                    child = node.first_child
                    if child is not None:
                        open_.append((node, tag, mem))
                        node = child
                        continue
                    add((ELEMENT, node, False, tag, mem, ""))
            else:
                add((OTHER, node, True, None, node.mem_id, ""))
            node = node.next
        if not open_:
            return events
        parent, tag, mem = open_.pop()
        add((ELEMENT, parent, False, tag, mem, ""))
        node = parent.next


def is_hidden(node: LexborNode) -> bool:
    """Never shown: `style="display:none"` / `visibility:hidden`, or the `hidden` attribute."""
    return _hidden(node.attributes)


def hidden_mems(node: LexborNode) -> set[int]:
    """The mem_ids of the elements at and below `node` that is_hidden() finds hidden, found by CSS (most
    elements carry no style): no attribute dict per element."""
    return {n.mem_id for n in css(node, HIDDEN_CANDIDATES) if is_hidden(n)}


def _hidden(attrs: dict) -> bool:
    return "hidden" in attrs or bool(_HIDDEN_STYLE_RE.search(attrs.get("style") or ""))


def maybe_hidden(node: LexborNode) -> bool:
    """Hidden, or shown only when a script says so (a copy to read only when no plainly visible one exists)."""
    attrs = node.attributes  # a new dict each time it is read
    return _hidden(attrs) or any(a in attrs for a in CONDITIONAL_ATTRS)


def ancestors(node: LexborNode) -> Iterator[LexborNode]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def is_inside(node: LexborNode, container: LexborNode) -> bool:
    """True when `container` is `node` or one of its ancestors."""
    if node.mem_id == container.mem_id:
        return True
    return any(a.mem_id == container.mem_id for a in ancestors(node))


def node_text(node: LexborNode) -> str:
    """Collapsed text of a node (script/style excluded)."""
    return collapse("".join([text for kind, _, _, _, _, text in each(flatten(node)) if kind == TEXT]))


def has_text(node: LexborNode) -> bool:
    """bool(node_text(node)), reading the node only up to its first text that is not all space (an
    article body's first line, not the whole body)."""
    for child, entering in walk(node):
        if entering and child.is_text_node and collapse(child.text_content or ""):
            return True
    return False


def subtree(events: Events, mems: list[int], node: LexborNode, removed: Sequence[int] = ()) -> Events | None:
    """flatten(node), read off a page's events (`events`: flatten(root) made before, `mems`: each event's
    mem_id, events[4::STRIDE]): the events between the node's entering and exit events, less the subtrees
    of the `removed` elements (decomposed since). None when `node` has no entering element event there (it
    is the root, skipped, or inside a skipped element) or was removed itself: flatten it then."""
    mem = node.mem_id
    if mem in removed:
        return None
    try:
        start = mems.index(mem)
    except ValueError:
        return None
    if events[start * STRIDE] != ELEMENT:
        return None
    end = mems.index(mem, start + 1)  # an element's mem_id is in its entering and its exit event only
    cuts = []
    for gone in removed:
        try:
            first = mems.index(gone, start + 1, end)
        except ValueError:
            continue  # not below `node`, or inside a skipped element
        # a skipped element has its one event
        cuts.append((first, mems.index(gone, first + 1, end) if events[first * STRIDE] == ELEMENT else first))
    out: Events = []
    pos = start + 1
    for first, last in sorted(cuts):
        if first >= pos:  # else inside a subtree already cut
            out += events[pos * STRIDE : first * STRIDE]
            pos = last + 1
    out += events[pos * STRIDE : end * STRIDE]
    return out


def meta_map(tree) -> dict[str, str]:
    """Each `<meta name=…>` name (lower case) with its first non-empty content, collapsed."""
    found: dict[str, str] = {}
    for meta in css(tree.root, "meta[name]") if tree.root is not None else []:
        name = (meta.attributes.get("name") or "").strip().lower()
        if name in found:
            continue
        content = collapse(meta.attributes.get("content") or "")
        if content:
            found[name] = content
    return found


def meta_content(tree, *names: str, metas: dict[str, str] | None = None) -> str | None:
    """First non-empty `<meta name=…>` content among `names` (case-insensitive); `metas`: the page's
    meta_map, when already read."""
    metas = meta_map(tree) if metas is None else metas
    return next((metas[n] for n in (n.lower() for n in names) if n in metas), None)
