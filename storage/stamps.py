"""How the archive writes times and days: stored timestamps are UTC, JSON shows them ISO 8601 with `Z`,
days are YYYY-MM-DD. Pure functions (no database), cheap to import."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Optional


def as_utc(ts: Optional[datetime]) -> Optional[datetime]:
    """A stored timestamp (naive ones are UTC) as an aware UTC datetime."""
    if ts is None:
        return None
    return ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts.astimezone(timezone.utc)


def iso_ts(ts: Optional[datetime]) -> Optional[str]:
    """ISO 8601 in UTC with `Z`, to the second (the JSON form of every timestamp)."""
    return as_utc(ts).isoformat(timespec="seconds").replace("+00:00", "Z") if ts else None


def iso_day(value: str) -> str:
    """`value` if it is a real day written YYYY-MM-DD (as dates are stored), else ValueError."""
    if not (len(value) == 10 and value[4] == value[7] == "-"):
        raise ValueError(f"want a date as YYYY-MM-DD, got {value!r}")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"want a date as YYYY-MM-DD, got {value!r} (no such day)") from None
    return value
