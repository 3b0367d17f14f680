"""Cap tag nesting before parsing: lexbor's tree builder is quadratic in depth
(100,000 nested <div>s take ~15 s), while real pages stay far below 100 levels."""

from __future__ import annotations

import re

MAX_DEPTH = 1000

_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^>]*>")
# Void elements and elements whose end tag is usually implied never deepen the count.
_FLAT = frozenset(
    "area base br col embed hr img input link meta param source track wbr keygen basefont bgsound frame "
    "p li dt dd td th tr option optgroup thead tbody tfoot colgroup caption rp rt".split()
)

# Any opening tag _TAG_RE may count as deepening (a superset: no closing `>` needed), found by the regex engine.
_OPEN_RE = re.compile(
    r"<(?!(?:" + "|".join(sorted(_FLAT, key=len, reverse=True)) + r")(?![A-Za-z0-9:-]))[A-Za-z]", re.I
)


def _depth_events(html: str):
    depth = 0
    for m in _TAG_RE.finditer(html):
        if m.group(2).lower() in _FLAT:
            continue
        if m.group(1):
            yield m, depth
            depth = max(depth - 1, 0)
        else:
            depth += 1
            yield m, depth


def cap_nesting(html: str, limit: int = MAX_DEPTH) -> tuple[str, bool]:
    """Drop tags nested deeper than `limit` (their text stays); returns (html, capped?)."""
    if html.count("<") <= limit or len(_OPEN_RE.findall(html)) <= limit:  # depth <= the tags that may deepen it
        return html, False
    if max((d for _, d in _depth_events(html)), default=0) <= limit:
        return html, False
    out, last = [], 0
    for m, depth in _depth_events(html):
        if depth > limit:
            out.append(html[last : m.start()])
            last = m.end()
    out.append(html[last:])
    return "".join(out), True
