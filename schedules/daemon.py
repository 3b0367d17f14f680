"""The daemon: APScheduler runs every source on its schedule; the ledger remembers every slot.

- Jobs live in memory; what was missed while the daemon was down is decided from the run ledger
  (not from an APScheduler job store, which erases missed runs on restart), per `on_missed`.
- A scheduled job only *asks* for a run; `start` decides: run, or skip (overlap, disabled,
  blocked), each decision a ledger row. One run per source at a time (plus the database lease
  across processes); at most `max_parallel_sources` at once.
- `xxgk trigger` rows are polled twice a second. SIGHUP reloads the config without dropping runs;
  SIGTERM/SIGINT stop scheduling, let in-flight documents finish within the grace period, and
  leave the runs recorded as interrupted.
- A database outage stops nothing: runs wait for it (storage/retry.py), the beat and the trigger
  poll try again each period, a slot due meanwhile starts when the database is back; the log says
  so once when it goes away and once when it is back. Nothing on the event loop waits for the
  database synchronously (each wait is an asyncio sleep that a stop ends), so SIGTERM always works.
"""

from __future__ import annotations

import asyncio
import random
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from loguru import logger
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import select

from schedules import stacks
from schedules.beats import beat_forever, claim_sole, live, write_beat
from schedules.health import BLOCKED
from schedules.ledger import last_slot, mark_stale_runs, missed_slots, record_slot
from schedules.notify import deliver_forever
from schedules.queue import CrawlQueue
from schedules.runner import EXIT_BUSY, SourceBusy, SourceRun, new_holder
from schedules.triggers import make_trigger
from scraper.config import Config, ConfigError, SourceConfig
from scraper.run_ledger import upsert_source
from storage import retry
from storage.archive import BlobStore
from storage.db import session
from storage.journal import recover
from storage.models import CrawlRun, DaemonBeat, Source, TriggerRequest, utcnow
from storage.stamps import as_utc

POLL_SECONDS = 0.5
T = TypeVar("T")
ANNOUNCE = logger.bind(announce=True)  # lines shown at default verbosity (start, each run): see setup_logging


def daemon_alive(engine: Engine) -> DaemonBeat | None:
    return next(iter(live(engine, "daemon")), None)


class Daemon:
    def __init__(self, load: Callable[[], Config], engine: Engine, store: BlobStore, queue: CrawlQueue | None = None):
        self.load, self.engine, self.store = load, engine, store
        self.queue = queue  # settings.engine = "queue": runs are enqueued for workers
        self.cfg = load()
        self.holder = new_holder("daemon")
        self.running: dict[str, SourceRun] = {}
        self.tasks: set[asyncio.Task] = set()
        self._slots: dict[str, list[datetime]] = {}
        self._triggers: dict[str, tuple] = {}

    # -- life cycle ---------------------------------------------------------------------------
    async def run(self) -> int:
        other = claim_sole(self.engine, self.holder, "daemon")
        if other is not None:
            age = (utcnow() - as_utc(other.heartbeat_at)).total_seconds()
            logger.error(
                "another daemon schedules this database: {} (host {}, pid {}, last beat {:.0f}s ago); "
                "one daemon a database (more workers scale it out)",
                other.holder,
                other.host,
                other.pid,
                age,
            )
            return EXIT_BUSY
        loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        self.parallel = asyncio.Semaphore(self.cfg.settings.max_parallel_sources)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        stacks.install(loop)
        closed = mark_stale_runs(self.engine)
        if closed:
            logger.warning("closed {} runs left running by a dead process (recorded as interrupted)", closed)
        recover(self.engine, self.store, self.cfg.data_dir / "journal")
        self.scheduler = AsyncIOScheduler(
            timezone=self.cfg.settings.timezone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        self.scheduler.start(paused=True)
        self._install(self.cfg)
        await self._catch_up()
        self.scheduler.resume()
        helpers = [
            asyncio.create_task(beat_forever(self.engine, self.holder)),
            asyncio.create_task(self._poll_triggers()),
            asyncio.create_task(deliver_forever(lambda: self.cfg, self.engine, self.holder)),
        ]
        self._announce_start()
        await self.stopping.wait()
        limit = self.cfg.settings.grace_seconds + stacks.STOP_MARGIN
        loop.call_later(limit, stacks.end_when_overdue, "daemon", limit, "its runs are closed at the next start")
        await self._shutdown(helpers)
        return 0

    def _announce_start(self) -> None:
        """The start line a user sees at default verbosity: sources, their next runs, the log file."""
        nexts = [
            f"{job.id} at {job.next_run_time:%Y-%m-%d %H:%M %z}"
            for job in self.scheduler.get_jobs()
            if job.next_run_time
        ]
        log = self.cfg.data_dir / "logs" / "xxgk.log" if self.cfg.settings.log_file else None
        ANNOUNCE.info(
            "daemon {} running {} scheduled sources (of {}){}; next: {}; log: {}",
            self.holder,
            len(nexts),
            len(self.cfg.sources),
            " (enqueued for workers)" if self.queue else "",
            ", ".join(sorted(nexts)) or "none",
            log or "off (settings.log_file = false)",
        )

    async def _shutdown(self, helpers: list[asyncio.Task]) -> None:
        logger.info("stopping: no new runs; in-flight documents get {}s", self.cfg.settings.grace_seconds)
        self.scheduler.shutdown(wait=False)
        for run in self.running.values():
            run.stop()
        pending = {t for t in self.tasks if not t.done()}
        if pending:
            _, late = await asyncio.wait(pending, timeout=self.cfg.settings.grace_seconds)
            for t in late:
                t.cancel()
            if late:
                await asyncio.wait(late, timeout=5)
        for h in helpers:
            h.cancel()
        # the last beat stays: the next daemon reads "up until" from it
        retry.quietly(self.engine, lambda: write_beat(self.engine, self.holder, stopped=True), "last heartbeat")
        ANNOUNCE.info("daemon {} stopped", self.holder)

    def reload(self) -> None:
        try:
            cfg = self.load()
        except ConfigError as exc:
            logger.error("SIGHUP: config not reloaded, keeping the running one: {}", exc)
            return
        self.cfg = cfg
        self._install(cfg)
        logger.info("SIGHUP: config reloaded ({} sources)", len(cfg.sources))

    # -- schedules ----------------------------------------------------------------------------
    def _install(self, cfg: Config) -> None:
        """Make the scheduler's jobs match the config; unchanged jobs keep their next run time."""
        tz = cfg.settings.timezone
        wanted = {s.name: s for s in cfg.sources if s.schedule}
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()
                self._triggers.pop(job.id, None)
        for name, src in wanted.items():
            key = (src.schedule, tz)
            if self._triggers.get(name) == key:
                continue
            self._triggers[name] = key
            trigger = make_trigger(src, tz)
            if self.scheduler.get_job(name):
                self.scheduler.reschedule_job(name, trigger=trigger)
            else:
                self.scheduler.add_job(self._due, trigger, id=name, args=[name], name=name)

    def _submitted(self, event: JobSubmissionEvent) -> None:
        self._slots[event.job_id] = list(event.scheduled_run_times)

    async def _due(self, name: str) -> None:
        slots = self._slots.pop(name, None) or [datetime.now(UTC)]
        # a slot due while the database is away starts when it is back
        await self._when_database_answers(lambda: self.start(name, "schedule", slots=slots), f"the run of {name}")

    async def _when_database_answers(self, fn: Callable[[], T], what: str) -> T | None:
        """fn() (one try of database work), tried again while the database is away, in asyncio sleeps that
        a stop ends (None then); any other error is logged and gives None: the daemon outlives it."""
        try:
            return await retry.call_async(self.engine, fn, abort=self._stop_reason)
        except retry.Abandoned as why:
            logger.info("{} not started: {}", what, why)
        except Exception as exc:  # noqa: BLE001 - the daemon outlives it; the next slot tries again
            retry.noted(exc, f"starting {what}")
        return None

    def _stop_reason(self) -> str | None:
        return "daemon stopping" if self.stopping.is_set() else None

    async def _catch_up(self) -> None:
        """Slots due while the daemon was down, from the ledger: run once (coalesced) or skip."""
        now = datetime.now(UTC)
        up_until = await self._when_database_answers(self._previous_daemon_seen, "catch-up")
        for src in self.cfg.sources:
            if src.schedule:
                await self._when_database_answers(
                    partial(self._catch_up_one, src, now, up_until), f"{src.name} catch-up"
                )

    def _catch_up_one(self, src: SourceConfig, now: datetime, up_until: datetime | None) -> None:
        source_id = upsert_source(self.engine, src)
        last = as_utc(last_slot(self.engine, source_id)) or up_until
        if last is None:
            return
        slots, cut = missed_slots(make_trigger(src, self.cfg.settings.timezone, anchor=last), last, now)
        if not slots:
            return
        why = f"{len(slots)}{'+' if cut else ''} slot(s) missed while the daemon was down"
        if src.on_missed == "skip":
            for slot in slots:
                record_slot(self.engine, source_id, "skipped", slot, f"{why}; on_missed = skip")
            logger.warning("{}: {} skipped (on_missed = skip)", src.name, why)
        else:
            logger.warning("{}: {}; running once now", src.name, why)
            self.start(src.name, "schedule", slots=slots, reason=f"catch-up: {why}")

    # -- runs ---------------------------------------------------------------------------------
    def start(
        self,
        name: str,
        trigger: str,
        slots: list[datetime] | None = None,
        full: bool = False,
        reason: str | None = None,
    ) -> str:
        """Start a run of `name` unless it must be skipped; every decision leaves a ledger row. One try of
        each database step: callers on the event loop wait out an outage (`_when_database_answers`)."""
        try:
            src = self.cfg.source(name)
        except ConfigError:
            return "unknown source"
        source_id = upsert_source(self.engine, src)
        slot = slots[-1] if slots else None
        for older in (slots or [])[:-1]:
            record_slot(
                self.engine, source_id, "coalesced", older, f"coalesced into the run for {slot:%Y-%m-%d %H:%M:%S%z}"
            )
        skip = self._skip_reason(src, source_id, trigger)
        if skip:
            record_slot(self.engine, source_id, "skipped", slot, skip, trigger=trigger)
            logger.info("{}: {} run skipped: {}", name, trigger, skip)
            return f"skipped: {skip}"
        if self.queue is not None:
            outcome = self.queue.enqueue(
                src,
                source_id,
                trigger=trigger,
                slot=slot,
                full=full,
                reason=reason,
                jitter=src.jitter if trigger == "schedule" else 0,
            )
            ANNOUNCE.info("{}: {} run {}", name, trigger, outcome)
            return outcome
        run = SourceRun(
            self.cfg,
            src,
            self.engine,
            self.store,
            holder=self.holder,
            trigger=trigger,
            full=full,
            scheduled_for=slot,
            reason=reason,
        )
        self.running[name] = run
        task = asyncio.create_task(self._execute(name, run, src.jitter if trigger == "schedule" else 0))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return "started"

    def _skip_reason(self, src: SourceConfig, source_id: int, trigger: str) -> str | None:
        if self.stopping.is_set():
            return "daemon stopping"
        if not src.enabled:
            return "disabled"
        if src.name in self.running:
            return "overlap: the previous run of this source is still going"
        if trigger == "schedule" and self._cooling_down(source_id):
            return f"blocked: the source answered with anti-bot walls; cooling down {self.cfg.settings.blocked_cooldown:.0f}s"
        return None

    def _cooling_down(self, source_id: int) -> bool:
        with session(self.engine) as s:
            src = s.get(Source, source_id)
            if src is None or src.health != BLOCKED:
                return False
            last = s.exec(
                select(CrawlRun.finished_at)
                .where(CrawlRun.source_id == source_id, CrawlRun.health == BLOCKED)
                .order_by(CrawlRun.id.desc())
            ).first()
        last = as_utc(last)
        return last is not None and datetime.now(UTC) - last < timedelta(seconds=self.cfg.settings.blocked_cooldown)

    async def _execute(self, name: str, run: SourceRun, jitter: float) -> None:
        try:
            async with self.parallel:
                if jitter:
                    await asyncio.sleep(random.uniform(0, jitter))
                summary = await run.run()
            ANNOUNCE.info(
                "{}: run {} ({}, {}) {}: {} new, {} changed, {} withdrawn, {} errors in {:.1f}s",
                name,
                summary.run_id,
                summary.mode,
                run.crawl_kw.get("trigger", "schedule"),
                summary.status,
                summary.new,
                summary.changed,
                summary.withdrawn,
                summary.errors,
                summary.seconds,
            )
        except SourceBusy as busy:
            kw, why = run.crawl_kw, f"overlap: {busy}"
            await self._when_database_answers(
                lambda: record_slot(
                    self.engine,
                    upsert_source(self.engine, run.src),
                    "skipped",
                    kw.get("scheduled_for"),
                    why,
                    trigger=kw.get("trigger", "schedule"),
                ),
                f"the skip of {name}",
            )
            logger.info("{}: skipped: {}", name, busy)
        except Exception as exc:  # noqa: BLE001 - the daemon outlives any one run
            retry.noted(exc, f"run of {name}")
        finally:
            self.running.pop(name, None)

    # -- triggers and heartbeat ---------------------------------------------------------------
    async def _poll_triggers(self) -> None:
        while True:
            while req := retry.quietly(self.engine, self._claim_trigger, "trigger poll"):
                what = f"trigger {req.id} for {req.source_name}"
                reason = f"xxgk trigger (request {req.id})"
                outcome = await self._when_database_answers(
                    partial(self.start, req.source_name, "trigger", full=req.full, reason=reason), what
                )
                if outcome is not None:
                    await self._when_database_answers(partial(self._answer, req.id, outcome), what)
                    logger.info("{}: {}", what, outcome)
            await asyncio.sleep(POLL_SECONDS)

    def _claim_trigger(self) -> TriggerRequest | None:
        """The oldest trigger request not taken yet, claimed: exactly one daemon takes a request."""
        table = TriggerRequest.__table__
        with session(self.engine) as s:
            pending = list(
                s.exec(select(TriggerRequest).where(TriggerRequest.taken_at.is_(None)).order_by(TriggerRequest.id))
            )
        for req in pending:
            with self.engine.begin() as conn:
                claim = update(table).where(table.c.id == req.id, table.c.taken_at.is_(None))
                if conn.execute(claim.values(taken_at=utcnow())).rowcount:
                    return req
        return None

    def _answer(self, request_id: int, outcome: str) -> None:
        with session(self.engine) as s:
            row = s.get(TriggerRequest, request_id)
            row.outcome = outcome
            s.add(row)
            s.commit()

    def _previous_daemon_seen(self) -> datetime | None:
        """When a daemon last ran here: the anchor for sources that never had a slot."""
        with session(self.engine) as s:
            return as_utc(
                s.exec(
                    select(DaemonBeat.heartbeat_at)
                    .where(DaemonBeat.holder != self.holder, DaemonBeat.holder.contains(":daemon:"))
                    .order_by(DaemonBeat.heartbeat_at.desc())
                ).first()
            )


def request_trigger(engine: Engine, name: str, full: bool = False) -> int:
    with session(engine) as s:
        req = TriggerRequest(source_name=name, full=full)
        s.add(req)
        s.commit()
        return req.id
