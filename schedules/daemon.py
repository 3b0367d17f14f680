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
  so once when it goes away and once when it is back.
"""

from __future__ import annotations

import asyncio
import random
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
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
from scraper.config import Config, ConfigError, SourceConfig, parse_schedule
from scraper.crawl import ensure_source
from storage import retry
from storage.archive import BlobStore
from storage.db import session
from storage.journal import recover
from storage.models import CrawlRun, DaemonBeat, Source, TriggerRequest, utcnow
from storage.stamps import as_utc

POLL_SECONDS = 0.5
ANNOUNCE = logger.bind(announce=True)  # lines shown at default verbosity (start, each run): see setup_logging


def make_trigger(src: SourceConfig, tz: str, anchor: datetime | None = None):
    kind, value = parse_schedule(src.schedule, tz)
    if kind == "interval":
        return IntervalTrigger(seconds=value, start_date=anchor or datetime.now(UTC), timezone=tz)
    return value


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
        self._catch_up()
        self.scheduler.resume()
        helpers = [
            asyncio.create_task(beat_forever(self.engine, self.holder)),
            asyncio.create_task(self._poll_triggers()),
            asyncio.create_task(deliver_forever(lambda: self.cfg, self.engine, self.holder)),
        ]
        self._announce_start()
        await self.stopping.wait()
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
        try:  # a slot due while the database is away starts when it is back
            await retry.call_async(self.engine, lambda: self.start(name, "schedule", slots=slots))
        except Exception as exc:  # noqa: BLE001 - the daemon outlives it; the next slot tries again
            retry.noted(exc, f"starting the scheduled run of {name}")

    def _catch_up(self) -> None:
        """Slots due while the daemon was down, from the ledger: run once (coalesced) or skip."""
        now = datetime.now(UTC)
        up_until = self._previous_daemon_seen()
        for src in self.cfg.sources:
            if not src.schedule:
                continue
            source_id = ensure_source(self.engine, src)
            last = as_utc(last_slot(self.engine, source_id)) or up_until
            if last is None:
                continue
            slots, cut = missed_slots(make_trigger(src, self.cfg.settings.timezone, anchor=last), last, now)
            if not slots:
                continue
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
        """Start a run of `name` unless it must be skipped; every decision leaves a ledger row."""
        try:
            src = self.cfg.source(name)
        except ConfigError:
            return "unknown source"
        source_id = ensure_source(self.engine, src)
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
            source_id, why = ensure_source(self.engine, run.src), f"overlap: {busy}"
            await retry.call_async(
                self.engine,
                lambda: record_slot(
                    self.engine,
                    source_id,
                    "skipped",
                    run.crawl_kw.get("scheduled_for"),
                    why,
                    trigger=run.crawl_kw.get("trigger", "schedule"),
                ),
            )
            logger.info("{}: skipped: {}", name, busy)
        except Exception as exc:  # noqa: BLE001 - the daemon outlives any one run
            retry.noted(exc, f"run of {name}")
        finally:
            self.running.pop(name, None)

    # -- triggers and heartbeat ---------------------------------------------------------------
    async def _poll_triggers(self) -> None:
        while True:
            retry.quietly(self.engine, self._take_triggers, "trigger poll")
            await asyncio.sleep(POLL_SECONDS)

    def _take_triggers(self) -> None:
        with session(self.engine) as s:
            pending = list(
                s.exec(select(TriggerRequest).where(TriggerRequest.taken_at.is_(None)).order_by(TriggerRequest.id))
            )
        for req in pending:
            with self.engine.begin() as conn:  # claim it: exactly one daemon takes a request
                claimed = conn.execute(
                    update(TriggerRequest.__table__)
                    .where(TriggerRequest.__table__.c.id == req.id, TriggerRequest.__table__.c.taken_at.is_(None))
                    .values(taken_at=utcnow())
                ).rowcount
            if not claimed:
                continue
            outcome = self.start(req.source_name, "trigger", full=req.full, reason=f"xxgk trigger (request {req.id})")
            with session(self.engine) as s:
                row = s.get(TriggerRequest, req.id)
                row.outcome = outcome
                s.add(row)
                s.commit()
            logger.info("trigger {} for {}: {}", req.id, req.source_name, outcome)

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
