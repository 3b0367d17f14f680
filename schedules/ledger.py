"""The run ledger: every due slot leaves a row (ran, coalesced, skipped), stale runs are closed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.db import read_session, session
from storage.leases import gone_from_here, live_holders
from storage.models import CrawlRun, Source, utcnow

RAN = ("ok", "partial", "failed", "interrupted")
MAX_MISSED = 1000


def add_reason(reason: str | None, more: str) -> str:
    return f"{reason}; {more}" if reason else more


def record_slot(
    engine: Engine,
    source_id: int,
    status: str,
    scheduled_for: datetime | None,
    reason: str,
    trigger: str = "schedule",
) -> int:
    """A slot that did not run: status 'coalesced' or 'skipped', with the reason."""
    now = utcnow()
    with session(engine) as s:
        row = CrawlRun(
            source_id=source_id,
            trigger=trigger,
            status=status,
            scheduled_for=scheduled_for,
            reason=reason,
            started_at=now,
            finished_at=now,
        )
        s.add(row)
        s.commit()
        return row.id


def last_slot(engine: Engine, source_id: int) -> datetime | None:
    with read_session(engine) as s:
        return s.exec(
            select(CrawlRun.scheduled_for)
            .where(CrawlRun.source_id == source_id, CrawlRun.scheduled_for.is_not(None))
            .order_by(CrawlRun.scheduled_for.desc())
        ).first()


def missed_slots(trigger, after: datetime, now: datetime) -> tuple[list[datetime], bool]:
    """Fire times of an APScheduler trigger in (after, now], oldest first; (slots, truncated).

    For an interval trigger, anchor it at `after` (the last slot) before calling this.
    """
    slots: list[datetime] = []
    tick = timedelta(microseconds=1)
    nxt = trigger.get_next_fire_time(None, after + tick)
    while nxt is not None and nxt <= now:
        slots.append(nxt)
        nxt = trigger.get_next_fire_time(nxt, nxt + tick)
    return slots[-MAX_MISSED:], len(slots) > MAX_MISSED


def mark_stale_runs(engine: Engine, source_id: int | None = None) -> int:
    """Runs left 'running' without a live holder, closed as interrupted with the reason: the process
    is gone from this host, or its lease lapsed (it died, or could not record the run's end)."""
    alive = live_holders(engine)
    n = 0
    with session(engine) as s:
        q = select(CrawlRun).where(CrawlRun.status == "running")
        if source_id is not None:
            q = q.where(CrawlRun.source_id == source_id)
        for run in s.exec(q):
            gone = gone_from_here(run.holder or "")
            if run.holder in alive and not gone:
                continue
            run.status, run.finished_at = "interrupted", run.finished_at or utcnow()
            run.reason = add_reason(
                run.reason,
                "its process is gone (killed or crashed)"
                if gone
                else "its lease lapsed before the run's end was recorded (the process died, or lost the database)",
            )
            s.add(run)
            n += 1
        s.commit()
    return n


def previous_runs(engine: Engine, source_id: int, before_id: int, limit: int = 10) -> list[CrawlRun]:
    with read_session(engine) as s:
        return list(
            s.exec(
                select(CrawlRun)
                .where(CrawlRun.source_id == source_id, CrawlRun.id < before_id, CrawlRun.status.in_(RAN))
                .order_by(CrawlRun.id.desc())
                .limit(limit)
            )
        )


def runs(engine: Engine, source: str | None = None, limit: int = 50) -> list[tuple[CrawlRun, str]]:
    with read_session(engine) as s:
        q = select(CrawlRun, Source.name).join(Source, Source.id == CrawlRun.source_id)
        if source:
            q = q.where(Source.name == source)
        return list(s.exec(q.order_by(CrawlRun.id.desc()).limit(limit)))
