"""Timestamps for people: every human table in settings.timezone, the zone named once in its caption."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from storage.stamps import as_utc


def local_time(ts: datetime | str | None, tz: str) -> str:
    """`YYYY-MM-DD HH:MM` in `tz` (stored timestamps are UTC; ISO strings with Z are read too); '' for None."""
    if not ts:
        return ""
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return as_utc(ts).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def zone_caption(tz: str) -> str:
    offset = datetime.now(ZoneInfo(tz)).strftime("%z")
    return f"times in {tz} (UTC{offset[:3]}:{offset[3:]})"
