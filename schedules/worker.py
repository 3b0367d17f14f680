"""`xxgk worker`: runs queued crawls (and re-parses) from the PostgreSQL queue, on any machine that
reaches the database and the archive.

- A crawl job runs schedules.runner.SourceRun, the path of every crawl (lease, heartbeat, health),
  turning the job's 'queued' ledger row into the run.
- A worker killed mid-crawl stops beating; after `lease_seconds` any other worker's reaper hands the
  job back to the queue (procrastinate retry). The retry waits for the dead holder's lease to lapse,
  then resumes the crawl: nothing lost, nothing twice (identity by 索引号).
- SIGTERM/SIGINT: no new jobs; running crawls stop gracefully within `grace_seconds`, are recorded
  interrupted, and a continuation is queued so another worker resumes them.
- A database outage: crawls wait for it (storage/retry.py); one that died of it anyway (an outage
  longer than db_outage_seconds) is retried once the database is back (procrastinate retry).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections.abc import Callable

from loguru import logger
from sqlalchemy.engine import Engine

from schedules import stacks
from schedules.beats import beat_forever, write_beat
from schedules.hold import hold_sources
from schedules.notify import deliver_quietly
from schedules.queue import (
    CRAWL,
    POLL_SECONDS,
    QUEUE,
    QUEUED,
    REPARSE,
    CrawlQueue,
    close_row,
    ensure_schema,
    make_app,
    note_takeover,
)
from schedules.runner import SourceBusy, SourceRun, new_holder
from schedules.stacks import STOP_MARGIN
from scraper.config import Config, ConfigError
from scraper.crawl import ensure_source
from scraper.reparse import reparse_archive, source_ids
from storage import retry
from storage.archive import BlobStore, LocalBlobStore
from storage.db import session
from storage.models import CrawlRun


class _ToLoguru(logging.Handler):
    """procrastinate logs through the standard library; send its warnings and errors to loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and retry.transient(exc):  # a database outage (its poll for jobs to abort, say):
            return retry.noted(exc, "procrastinate")  # said once for the outage, as every other wait says it
        logger.opt(depth=6, exception=record.exc_info).log(record.levelname, "procrastinate: {}", record.getMessage())


def _route_procrastinate_logs() -> None:
    log = logging.getLogger("procrastinate")
    if not any(isinstance(h, _ToLoguru) for h in log.handlers):
        log.addHandler(_ToLoguru(level=logging.WARNING))
        log.propagate = False


class DatabaseLost(Exception):
    """A crawl job that died of a database outage: procrastinate runs it again."""


JOB_RETRIES = 5


class Worker:
    def __init__(self, load: Callable[[], Config], engine: Engine, store: BlobStore, concurrency: int = 1):
        self.load, self.engine, self.store, self.concurrency = load, engine, store, concurrency
        self.cfg = load()
        self.holder = new_holder("worker")
        self.running: dict[int, SourceRun] = {}  # job id -> its run
        self.stopping = False
        self.main: asyncio.Task | None = None  # procrastinate's job loop, while it runs
        lease = self.cfg.settings.lease_seconds
        self.beat = min(10.0, max(0.5, lease / 6))  # procrastinate heartbeat
        self.stall = max(lease, 4 * self.beat)  # a worker silent this long is dead: its jobs go back

    # -- life cycle ---------------------------------------------------------------------------
    async def run(self) -> int:
        _route_procrastinate_logs()
        ensure_schema(self.engine)
        self.app = make_app(self.engine, pool_size=self.concurrency + 4)
        from procrastinate import RetryStrategy

        self.app.task(
            name=CRAWL,
            queue=QUEUE,
            pass_context=True,
            retry=RetryStrategy(max_attempts=JOB_RETRIES, wait=5, retry_exceptions={DatabaseLost}),
        )(self._crawl)
        self.app.task(name=REPARSE, queue=QUEUE, pass_context=True)(self._reparse)
        async with self.app.open_async():
            self.queue = CrawlQueue(self.engine, self.holder, app=self.app)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stop)
            loop.add_signal_handler(signal.SIGHUP, logger.info, "SIGHUP: nothing to reload; every job reads the config")
            stacks.install(loop)
            helpers = [asyncio.create_task(beat_forever(self.engine, self.holder)), asyncio.create_task(self._reap())]
            logger.info(
                "worker {} taking up to {} jobs at a time from queue {!r}", self.holder, self.concurrency, QUEUE
            )
            if isinstance(self.store, LocalBlobStore):
                logger.warning(
                    "the archive is the local folder {}: workers on other machines need this folder "
                    "shared (one mount), or an s3:// archive_url",
                    self.store.root,
                )
            try:
                await self._take_jobs()
            finally:
                for h in helpers:
                    h.cancel()
                retry.quietly(self.engine, lambda: write_beat(self.engine, self.holder, stopped=True), "last heartbeat")
        logger.info("worker stopped")
        return 0

    async def _take_jobs(self) -> None:
        """procrastinate's job loop until this worker is told to stop. The loop stops on its own when one of
        its side tasks fails (a heartbeat through an outage longer than the pool's timeout): it is started
        again once the database is back. Jobs are polled for (every POLL_SECONDS) rather than LISTENed for:
        a listening connection an outage breaks would stop the loop, and the polling is as prompt."""
        while not self.stopping:
            self.main = asyncio.create_task(
                self.app.run_worker_async(
                    queues=[QUEUE],
                    concurrency=self.concurrency,
                    name=self.holder,
                    install_signal_handlers=False,
                    listen_notify=False,
                    fetch_job_polling_interval=POLL_SECONDS,
                    abort_job_polling_interval=1.0,
                    shutdown_graceful_timeout=self.cfg.settings.grace_seconds + 2,
                    delete_jobs="successful",
                    update_heartbeat_interval=self.beat,
                    stalled_worker_timeout=self.stall,
                )
            )
            try:
                await self.main
            except asyncio.CancelledError:
                if not self.stopping:
                    raise
            except Exception as exc:  # noqa: BLE001 - the job loop is started again below
                logger.warning("the job loop ended: {}: {}", type(exc).__name__, exc)
            if self.stopping:
                return
            logger.warning("the job loop stopped on its own; it starts again once the database answers")
            await self._until_database_answers(unless=lambda: self.stopping)

    def stop(self) -> None:
        """Stop taking jobs; running crawls stop gracefully (and are queued again to be resumed)."""
        if self.stopping:
            return
        self.stopping = True
        logger.info("stopping: no new jobs; running crawls get {}s", self.cfg.settings.grace_seconds)
        for run in self.running.values():
            run.stop()
        if self.main is not None:
            self.main.cancel()  # procrastinate then waits for the running jobs (shutdown_graceful_timeout)
        limit = self.cfg.settings.grace_seconds + STOP_MARGIN
        asyncio.get_running_loop().call_later(limit, self._overdue, limit)

    def _overdue(self, limit: float) -> None:
        """A stop is bounded. Past grace + STOP_MARGIN (procrastinate still persisting a job's status through a
        database outage, say) the process ends as a killed one would: its jobs stay 'doing' and the reapers hand
        them back; its run is closed as interrupted by whoever finds it next (the design for kill -9)."""
        if self.main is None or self.main.done():
            return
        stacks.end_when_overdue("worker", limit, "its jobs go back to the queue")

    async def _reap(self) -> None:
        """Jobs left 'doing' by a worker that stopped beating go back to the queue."""
        manager = self.app.job_manager
        while True:
            await asyncio.sleep(self.beat)
            try:
                for job in await manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=self.stall):
                    await self._retry(job)
            except Exception as exc:  # noqa: BLE001 - the reaper outlives a database outage
                retry.noted(exc, "stalled-job check")

    async def _retry(self, job) -> None:
        from procrastinate import exceptions, jobs

        manager = self.app.job_manager
        what = f"job {job.id} ({job.task_name} {job.task_kwargs.get('source')})"
        try:
            await manager.retry_job(job)
            logger.warning("{} was left running by a worker that died; queued again", what)
        except exceptions.UniqueViolation:  # another job for this source is already waiting: it resumes
            await manager.finish_job(job, status=jobs.Status.FAILED, delete_job=False)
            note_takeover(self.engine, job.queueing_lock, f"takes over job {job.id}: its worker died")
            logger.warning(
                "{} was left running by a worker that died; the job already queued for the source takes over", what
            )
        except exceptions.ConnectorException:
            pass  # another worker's reaper got there first

    def _config(self) -> Config:
        """Each job reads the config afresh (a worker needs no restart for new sources); a bad file
        keeps the last good one."""
        try:
            self.cfg = self.load()
        except ConfigError as exc:
            logger.error("config not reloaded, keeping the last good one: {}", exc)
        return self.cfg

    # -- tasks --------------------------------------------------------------------------------
    async def _crawl(self, context, source: str, full: bool = False, run_id: int | None = None) -> dict:
        job = context.job
        cfg = self._config()

        def queued_row() -> CrawlRun | None:
            with session(self.engine) as s:
                return s.get(CrawlRun, run_id) if run_id else None

        row = await retry.call_async(self.engine, queued_row)
        try:
            src = cfg.source(source)
        except ConfigError as exc:
            if row is not None and row.status == QUEUED:
                close_row(self.engine, row.id, "skipped", f"worker {self.holder}: {exc}")
            raise
        adopt = row.id if row is not None and row.status == QUEUED else None
        reason = row.reason if adopt else f"job {job.id} again (attempt {job.attempts + 1}): its worker died"
        run = SourceRun(
            cfg,
            src,
            self.engine,
            self.store,
            holder=f"{self.holder}:job{job.id}.{job.attempts}",
            trigger=row.trigger if row else "queue",
            full=full,
            run_id=adopt,
            reason=reason,
            scheduled_for=row.scheduled_for if adopt else None,
        )
        if self.stopping:
            run.stop()
        self.running[job.id] = run
        summary = None
        try:
            summary = await run.run(wait=True)
            await deliver_quietly(cfg, self.engine, self.holder)
            if run.crawl.database_lost or run.keeper.outage:
                raise DatabaseLost(f"run {summary.run_id} stopped: the database was away too long")
            return {"run_id": summary.run_id, "status": summary.status}
        except Exception as exc:
            if retry.transient(exc) or isinstance(exc, DatabaseLost):
                await self._database_back(job.id, exc)
                raise DatabaseLost(str(exc)) from exc
            if adopt:  # never left 'queued' for ever: the ledger says the job failed, and why
                close_row(
                    self.engine, adopt, "failed", f"worker {self.holder}: {type(exc).__name__}: {exc}", only_if=QUEUED
                )
            raise
        finally:
            self.running.pop(job.id, None)
            if self.stopping and (summary is None or summary.status == "interrupted"):
                await self._continue_later(src, run, summary, full)

    async def _continue_later(self, src, run: SourceRun, summary, full: bool) -> None:
        """Queue the rest of a crawl this stopping worker interrupted. With the database away it is not waited
        for (the worker must end): the job stays 'doing' and the reapers hand it back once the database is up."""
        why = f"continues run {summary.run_id}" if summary else "continues a crawl"
        try:
            source_id = run.source_id or await asyncio.to_thread(ensure_source, self.engine, src)
            await self.queue.enqueue_async(
                src,
                source_id,
                trigger=run.crawl_kw["trigger"],
                full=full,
                reason=f"{why} interrupted when worker {self.holder} stopped",
            )
        except Exception as exc:  # noqa: BLE001 - the database is away: the reapers resume it later
            if not retry.transient(exc):
                raise
            logger.warning(
                "{}: the rest of the crawl is not queued ({}); it resumes once the database is back", src.name, exc
            )

    async def _database_back(self, job_id: int, exc: BaseException) -> None:
        """Wait until the database is back (procrastinate must record the retry there)."""
        logger.warning("job {} died of a database outage ({}); it runs again once the database is back", job_id, exc)
        await self._until_database_answers()

    async def _until_database_answers(self, unless: Callable[[], bool] = lambda: False) -> None:
        """Wait until the database answers (checked each second), or until `unless()`."""
        while not unless() and not retry.quietly(self.engine, lambda: retry.ping(self.engine), "database check"):
            await asyncio.sleep(1.0)

    async def _reparse(self, context, source: str) -> dict:
        """Under the source's lease (held as `xxgk reparse` holds it): never beside a crawl of it."""
        cfg = self._config()
        return await asyncio.to_thread(
            reparse_source, self.engine, self.store, source, cfg.settings.lease_seconds, lambda: self.stopping
        )


def reparse_source(
    engine: Engine, store: BlobStore, source: str, ttl: float, stopping: Callable[[], bool] = lambda: False
) -> dict:
    """scraper.reparse over one source's archive, waiting while another process holds the source."""
    ids = source_ids(engine, source)  # KeyError: not in the archive
    while True:
        try:
            with hold_sources(engine, {ids[0]: source}, "reparse", ttl) as keep:
                # workers=1: no forking of this many-threaded daemon (its crawls share the cores anyway)
                summary = reparse_archive(engine, store, ids, progress=lambda n: keep(), workers=1)
            break
        except SourceBusy as busy:
            if stopping():
                raise
            logger.info("{}; re-parse waits", busy)
            time.sleep(min(5.0, ttl / 3))
    logger.info("re-parse of source {}: {}", source, json.dumps(summary.as_dict(), ensure_ascii=False))
    return summary.as_dict()
