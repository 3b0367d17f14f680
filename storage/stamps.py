"""How the archive writes times and days: stored timestamps are UTC, JSON shows them ISO 8601 with `Z`,
days are YYYY-MM-DD. Pure functions (no database), cheap to import."""

from __future__ import annotations

from datetime import UTC, date, datetime


def as_utc(ts: datetime | None) -> datetime | None:
    """A stored timestamp (naive ones are UTC) as an aware UTC datetime."""
    if ts is None:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def iso_ts(ts: datetime | None) -> str | None:
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
