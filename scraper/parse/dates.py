"""Dates as printed on portals -> ISO `YYYY-MM-DD` (None when unparseable)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

# 2025-03-05, 2025-3-5, 2025/03/05, 2025.03.05, 2025年3月5日; anything after (a time) is ignored.
_DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
_COMPACT_RE = re.compile(r"(\d{4})(\d{2})(\d{2})(?!\d)")


def to_iso(raw: str | None) -> str | None:
    """ISO date from the start of `raw` (full-width digits allowed), or None."""
    if not raw:
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    m = _DATE_RE.match(text) or _COMPACT_RE.match(text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None
