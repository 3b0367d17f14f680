"""Hanweb jcms template markers: `<!--<$[NAME]>begin-->…<!--<$[NAME]>end-->`."""

from __future__ import annotations

from selectolax.lexbor import LexborNode

from scraper.parse.tree import OTHER, Events, collapse, each, flatten, walk


def _comment(node: LexborNode) -> str:
    return (node.comment_content or "").strip() if node.is_comment_node else ""


def find_marker(root: LexborNode, name: str, events: Events | None = None) -> tuple[LexborNode, LexborNode] | None:
    """The begin/end comment nodes of marker `name` when they are siblings, else None.
    `events`: flatten(root), when already made."""
    begin_text, end_text = f"<$[{name}]>begin", f"<$[{name}]>end"
    for kind, node, _, _, _, _ in each(flatten(root) if events is None else events):
        if kind == OTHER and _comment(node) == begin_text:
            sibling = node.next
            while sibling is not None:
                if _comment(sibling) == end_text:
                    return node, sibling
                sibling = sibling.next
            return None
    return None


def between(begin: LexborNode, end: LexborNode) -> list[LexborNode]:
    nodes, node = [], begin.next
    while node is not None and node.mem_id != end.mem_id:
        nodes.append(node)
        node = node.next
    return nodes


def marker_text(root: LexborNode, name: str, events: Events | None = None) -> str | None:
    """Collapsed text between the markers, None when absent or empty."""
    found = find_marker(root, name, events)
    if found is None:
        return None
    parts = []
    for node in between(*found):
        if node.is_text_node:
            parts.append(node.text_content or "")
        elif node.is_element_node:
            parts.extend(n.text_content or "" for n, entering in walk(node) if entering and n.is_text_node)
    return collapse("".join(parts)) or None


def marker_container(root: LexborNode, name: str, events: Events | None = None) -> LexborNode | None:
    """The parent of the markers, pruned to what lies between them (mutates the tree: `events` then
    no longer describe it)."""
    found = find_marker(root, name, events)
    if found is None:
        return None
    begin, end = found
    parent = begin.parent
    keep = {n.mem_id for n in between(begin, end)}
    for child in list(parent.iter(include_text=True)):
        if child.mem_id not in keep:
            child.decompose()
    return parent
