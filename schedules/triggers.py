"""A source's schedule as an APScheduler trigger: for the daemon, and for `xxgk sources` (its next run), which
must not load the daemon and with it the whole crawl stack to say when that is."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.triggers.interval import IntervalTrigger

from scraper.config import SourceConfig, parse_schedule


def make_trigger(src: SourceConfig, tz: str, anchor: datetime | None = None):
    kind, value = parse_schedule(src.schedule, tz)
    if kind == "interval":
        return IntervalTrigger(seconds=value, start_date=anchor or datetime.now(UTC), timezone=tz)
    return value
