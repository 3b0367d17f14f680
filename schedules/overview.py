"""What `xxgk sources`, `xxgk runs` and `xxgk fleet` print with --json, built once for the CLI and the web."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from schedules.beats import live
from schedules.queue import queue_counts
from schedules.triggers import make_trigger
from scraper.config import Config
from storage import retry_list
from storage.db import read_session
from storage.models import COUNTERS, CrawlRun, Document, Source
from storage.stamps import iso_ts


def next_run(src, tz: str) -> datetime | None:
    if not src.schedule or not src.enabled:
        return None
    return make_trigger(src, tz).get_next_fire_time(None, datetime.now(UTC))


def source_rows(engine: Engine | None, config: Config) -> list[dict]:
    """Each configured source: family, schedule, next run, health, last run, documents, retry list
    (`engine` None: there is no archive yet, nothing was crawled)."""
    rows = []
    with read_session(engine) if engine else nullcontext() as s:
        for src in config.sources:
            row = s.exec(select(Source).where(Source.name == src.name)).first() if engine else None
            last = None
            docs = 0
            if row:
                last = s.exec(select(CrawlRun).where(CrawlRun.source_id == row.id).order_by(CrawlRun.id.desc())).first()
                docs = s.exec(select(func.count()).select_from(Document).where(Document.source_id == row.id)).one()
            rows.append(
                {
                    "name": src.name,
                    "title": src.title,
                    "family": src.family or (row.family if row else None),
                    "schedule": src.schedule,
                    "enabled": src.enabled,
                    "next_run": iso_ts(next_run(src, config.settings.timezone)),
                    "start_urls": src.start_urls,
                    "health": row.health if row else "UNKNOWN",
                    "health_reason": row.health_reason if row else None,
                    "last_run": None
                    if last is None
                    else {
                        "id": last.id,
                        "status": last.status,
                        "started_at": iso_ts(last.started_at),
                        "finished_at": iso_ts(last.finished_at),
                    },
                    "documents": docs,
                    "retry_list": retry_list.report(s, row.id if row else None),
                }
            )
    return rows


def run_json(run: CrawlRun, source: str) -> dict:
    """One row of the run ledger (`xxgk runs --json`)."""
    row = {
        "id": run.id,
        "source": source,
        "trigger": run.trigger,
        "mode": run.mode,
        "status": run.status,
        "health": run.health,
        "scheduled_for": iso_ts(run.scheduled_for),
        "started_at": iso_ts(run.started_at),
        "finished_at": iso_ts(run.finished_at),
        "reason": run.reason,
        "holder": run.holder,
    }
    row.update({k: getattr(run, k) for k in COUNTERS})
    row["error"] = run.error
    return row


def fleet_rows(engine: Engine) -> tuple[list[dict], dict]:
    """(the live daemon and workers, each with the sources it crawls now; the queue's jobs by task and status)."""
    from storage.queries import running_sources  # Core tables: `sources` and `runs` do without them

    procs = live(engine)
    jobs = queue_counts(engine) if engine.dialect.name == "postgresql" else {}
    with read_session(engine) as s:
        running = running_sources(s)

    def crawling(holder: str) -> list[str]:  # a worker's runs are held as "<worker>:job<id>.<try>"
        return [name for h, name in running if h == holder or (h or "").startswith(holder + ":")]

    return [
        {
            "holder": p.holder,
            "host": p.host,
            "pid": p.pid,
            "started_at": iso_ts(p.started_at),
            "heartbeat_at": iso_ts(p.heartbeat_at),
            "crawling": crawling(p.holder),
            "database": p.database,
        }
        for p in procs
    ], jobs
