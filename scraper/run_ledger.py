"""The run ledger: the only writer of a crawl's crawl_runs row (its start, its end) and of its
source's row; at the end it also puts the run's failed documents on the source's retry list."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, col, select

from scraper.outcomes import Failed
from scraper.portals import ListItem
from storage import retry, retry_list
from storage.db import session
from storage.models import COUNTERS, CrawlRun, RunCounters, Source, utcnow

UNFINISHED = ("running", "interrupted", "failed")
Failures = dict[str, tuple[ListItem, bool, Failed]]  # url -> (item, recheck, why)


class RunSummary(RunCounters):
    """A run as its caller sees it: the ledger's counters and more."""

    run_id: int
    source: str
    mode: str
    status: str = "running"
    seconds: float = 0.0
    resumed: bool = False
    health: str | None = None
    family: str | None = None  # as configured, remembered or detected
    attachments: int = 0  # files downloaded and archived
    attachment_errors: int = 0  # files that could not be fetched (the document is still stored)
    problems: list[str] = Field(default_factory=list)

    def as_dict(self) -> dict:
        head = ("run_id", "source", "mode", "status", *COUNTERS)  # the order `--json` has always had
        return {k: getattr(self, k) for k in (*head, *(f for f in type(self).model_fields if f not in head))}


def ensure_source(engine: Engine, src) -> int:
    """The source's row id, made on first use; waits out a database outage (storage/retry.py)."""
    return retry.call(engine, lambda: upsert_source(engine, src))


def upsert_source(engine: Engine, src) -> int:
    """`ensure_source` in one try, for callers that wait out outages their own way (the daemon's event loop).
    Processes starting together may race to make the row (on PostgreSQL nothing serialises them): the loser
    of the race reads the winner's row."""

    def upsert() -> int:
        with session(engine) as s:
            row = s.exec(select(Source).where(Source.name == src.name)).first() or Source(name=src.name)
            row.family, row.title = src.family or row.family, src.title or row.title
            s.add(row)
            s.commit()
            return row.id

    try:
        return upsert()
    except IntegrityError:
        return upsert()


def source_family(engine: Engine, source_id: int) -> str | None:
    def read() -> str | None:
        with session(engine) as s:
            row = s.get(Source, source_id)
            return row.family if row else None

    return retry.call(engine, read)


def remember_family(s, source_id: int, family: str) -> None:
    """A detected family sticks to its source: later runs use it, so a redesign shows as LAYOUT_CHANGED."""
    row = s.get(Source, source_id)
    if row is not None and not row.family:
        row.family = family
        s.add(row)


class RunLedger:
    def __init__(self, source_id: int, source: str, *, full: bool, trigger: str, adopt: int | None, fields: dict):
        self.source_id, self.source, self.full, self.trigger = source_id, source, full, trigger
        self.adopt = adopt  # a 'queued' ledger row (schedules/queue.py) this run becomes
        self.fields = fields  # scheduled_for, reason, holder
        self.run_id: int | None = None
        self.resumed = False

    def start(self, s) -> tuple[CrawlRun, list]:
        """The run's row, running; and the source's retry list (what failed before goes first)."""
        run = (s.get(CrawlRun, self.adopt) if self.adopt else None) or CrawlRun(source_id=self.source_id)
        run.trigger, run.mode, run.status = self.trigger, "full" if self.full else "incremental", "running"
        run.started_at = utcnow()
        for key, value in self.fields.items():
            setattr(run, key, value)
        s.add(run)
        s.flush()
        self.run_id = run.id
        self.resumed = not self.full and self._resuming(s)
        return run, retry_list.waiting(s, self.source_id)

    def _resuming(self, s) -> bool:
        """After a run that did not finish, walk the lists past the known items (no early stop)."""
        last = s.exec(
            select(CrawlRun.status)
            .where(
                CrawlRun.source_id == self.source_id,
                CrawlRun.id != self.run_id,
                col(CrawlRun.status).not_in(("coalesced", "skipped", "queued")),
            )
            .order_by(col(CrawlRun.id).desc())
        ).first()
        return last in UNFINISHED

    def end(self, s, sm: RunSummary, failed: Failures, lost: bool) -> None:
        """The run's counters, status and problems; its failed documents onto the retry list (not when
        the lease was lost: the source is another crawler's now, its retry list too)."""
        if not lost:
            for url, (item, recheck, why) in failed.items():
                row = retry_list.failed(
                    s,
                    self.source_id,
                    url,
                    why.reason,
                    list_title=item.title,
                    list_date=item.date,
                    list_meta=item.meta,
                    recheck=recheck,
                )
                if row.given_up_at is not None:
                    sm.problems.append(f"given up after {row.tries} tries: {why.reason}: {url}")
        run = s.get(CrawlRun, self.run_id)
        for k in ("status", *COUNTERS):
            setattr(run, k, getattr(sm, k))
        run.finished_at = utcnow()
        run.error = "\n".join(sm.problems[:50]) or None
        s.add(run)
