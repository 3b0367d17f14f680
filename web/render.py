"""Presentation helpers the templates use: highlighted text, side-by-side diffs, a tiny bar chart."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from urllib.parse import quote

from storage.history import char_changes

Segments = list[tuple[str, bool]]  # (text, marked): marked parts are highlighted, all are escaped


def segments(text: str, spans) -> Segments:
    """`text` cut at the [start, end) `spans` (sorted, disjoint)."""
    out, at = [], 0
    for a, b in spans:
        if a > at:
            out.append((text[at:a], False))
        out.append((text[a:b], True))
        at = b
    if at < len(text) or not out:
        out.append((text[at:], False))
    return out


@dataclass
class DiffRow:
    kind: str  # equal | replace | delete | insert
    old_no: int | None
    old: Segments
    new_no: int | None
    new: Segments


def side_by_side(old: list[str], new: list[str]) -> list[DiffRow]:
    """Line pairs of two renderings; in a changed pair, the differing characters are marked."""
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            a = old[i] if i < i2 else None
            b = new[j] if j < j2 else None
            if tag == "equal":
                rows.append(DiffRow("equal", i + 1, [(a, False)], j + 1, [(b, False)]))
            elif a is not None and b is not None:
                sa, sb = char_changes(a, b)
                rows.append(DiffRow("replace", i + 1, segments(a, sa), j + 1, segments(b, sb)))
            elif a is not None:
                rows.append(DiffRow("delete", i + 1, [(a, True)], None, []))
            else:
                rows.append(DiffRow("insert", None, [], j + 1, [(b, True)]))
    return rows


def bars(per_day: dict[str, int], days: int = 30, width: int = 120, height: int = 24) -> list[dict]:
    """SVG rectangles (x, y, w, h, title) for the last `days` days' counts, oldest left."""
    today = dt.datetime.now(dt.UTC).date()
    dates = [(today - dt.timedelta(days=days - 1 - i)).isoformat() for i in range(days)]
    top = max([per_day.get(d, 0) for d in dates] + [1])
    step = width / days
    out = []
    for i, d in enumerate(dates):
        n = per_day.get(d, 0)
        h = round(height * n / top, 1) if n else 0
        out.append(
            {"x": round(i * step, 1), "y": round(height - h, 1), "w": round(step - 1, 1), "h": h, "title": f"{d}: {n}"}
        )
    return out


def doc_path(doc: dict) -> str:
    """The URL path of a document's page: its 索引号 (slashes kept), or its URL."""
    return "/documents/" + quote(doc.get("index_no") or doc["url"], safe="/")
