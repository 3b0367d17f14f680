"""The crawl queue (settings.engine = "queue"): procrastinate jobs in the PostgreSQL database.

The daemon (still the one scheduler) and `xxgk trigger` enqueue; `xxgk worker`s on any machine run.
- One job per crawl. `queueing_lock` = the source: at most one waiting job per source (another
  request is coalesced into it); `lock` = the source's host: one crawl at a time per portal host
  across all workers, so politeness holds fleet-wide even when several sources (columns, departments)
  live on one host (the database lease of schedules/runner.py holds besides, per source, also against
  foreground crawls).
- The ledger row is written first (status "queued", with the slot), then the job that names it;
  the worker turns that row into the run, so a slot shows who queued it and who ran it.
- procrastinate's tables live beside ours; its schema is applied once, under an advisory lock, the
  first time a queue is opened on a database (PostgreSQL only).
"""

from __future__ import annotations

import random
from datetime import datetime
from urllib.parse import urlsplit

from loguru import logger
from sqlalchemy.engine import Engine, make_url

from schedules.ledger import add_reason
from scraper.config import SourceConfig
from storage.db import session
from storage.models import CrawlRun, utcnow

QUEUE = "xxgk"
CRAWL = "xxgk.crawl"
REPARSE = "xxgk.reparse"
POLL_SECONDS = 0.5  # workers look for jobs this often (and at once on NOTIFY)
QUEUED = "queued"
_SCHEMA_LOCK = 0x78786B67  # pg advisory lock key ("xxkg") while the schema is applied


class QueueError(Exception):
    """The queue cannot be used: not PostgreSQL, procrastinate missing, or the database unreachable."""


def lock_key(source: str) -> str:
    """At most one waiting crawl job per source."""
    return f"source:{source}"


def host_lock(src: SourceConfig) -> str:
    """One running crawl job per portal host (its first start URL's host[:port], the key of the
    fetcher's per-host politeness), fleet-wide."""
    return f"host:{urlsplit(src.start_urls[0]).netloc.lower()}"


def conninfo(engine: Engine) -> str:
    """The libpq URL of a SQLAlchemy PostgreSQL engine (query options such as search_path kept)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _procrastinate():
    try:
        import procrastinate
    except ImportError:
        raise QueueError("the queue engine needs procrastinate: pip install 'xxgk-archive[postgres]'") from None
    return procrastinate


def ensure_schema(engine: Engine) -> None:
    """Apply procrastinate's schema to this database unless it is there already (idempotent, race-free)."""
    if engine.dialect.name != "postgresql":
        raise QueueError(
            f"the crawl queue (engine = 'queue', xxgk worker) needs PostgreSQL; the database is "
            f"{engine.dialect.name} "
            f"({make_url(engine.url).render_as_string(hide_password=True)})"
        )
    schema_sql = _procrastinate().schema.SchemaManager.get_schema()
    with engine.begin() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
        if conn.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar() is None:
            conn.connection.driver_connection.execute(schema_sql)  # no parameters: '%' stays literal
            logger.info("applied procrastinate's queue schema")


def make_app(engine: Engine, pool_size: int = 2):
    """A procrastinate App on the same database (not yet opened)."""
    p = _procrastinate()
    return p.App(connector=p.PsycopgConnector(conninfo=conninfo(engine), min_size=1, max_size=max(2, pool_size)))


def record_queued(
    engine: Engine,
    source_id: int,
    *,
    trigger: str,
    slot: datetime | None,
    full: bool,
    reason: str | None,
    holder: str,
) -> int:
    """The enqueue side of the ledger: a 'queued' row the worker later turns into the run (its
    holder then names the worker; the reason keeps who queued it and when)."""
    now = utcnow()
    queued = f"queued by {holder} at {now:%Y-%m-%d %H:%M:%S}Z"
    with session(engine) as s:
        row = CrawlRun(
            source_id=source_id,
            trigger=trigger,
            status=QUEUED,
            scheduled_for=slot,
            started_at=now,
            mode="full" if full else "incremental",
            reason=add_reason(reason, queued),
            holder=holder,
        )
        s.add(row)
        s.commit()
        return row.id


def close_row(engine: Engine, run_id: int, status: str, reason: str, only_if: str | None = None) -> None:
    """A queued row that will not run: coalesced into a waiting job, skipped or failed (with why)."""
    with session(engine) as s:
        row = s.get(CrawlRun, run_id)
        if only_if is not None and row.status != only_if:
            return
        row.status, row.finished_at = status, utcnow()
        row.reason = add_reason(row.reason, reason)
        s.add(row)
        s.commit()


def note_takeover(engine: Engine, queueing_lock: str | None, note: str) -> None:
    """Say in the ledger row of the job waiting under `queueing_lock` that it takes over a dead one."""
    with engine.connect() as conn:
        run_id = conn.exec_driver_sql(
            "SELECT args->>'run_id' FROM procrastinate_jobs WHERE queueing_lock = %(lock)s AND status = 'todo'",
            {"lock": queueing_lock},
        ).scalar()
    if run_id:
        with session(engine) as s:
            row = s.get(CrawlRun, int(run_id))
            if row is not None and row.status == QUEUED:
                row.reason = add_reason(row.reason, note)
                s.add(row)
                s.commit()


class CrawlQueue:
    """Enqueue crawls: a ledger row, then a job naming it. `open()`/`close()` for sync callers;
    `enqueue_async` from a worker's event loop (its App opened async)."""

    def __init__(self, engine: Engine, holder: str, app=None):
        self.engine, self.holder = engine, holder
        self.app = app
        self._owned = app is None

    def open(self) -> CrawlQueue:
        ensure_schema(self.engine)
        if self.app is None:
            self.app = make_app(self.engine).open()
        return self

    def close(self) -> None:
        if self._owned and self.app is not None:
            self.app.close()
            self.app = None

    def _prepare(self, src: SourceConfig, source_id: int, trigger: str, slot, full: bool, reason, jitter: float):
        run_id = record_queued(
            self.engine, source_id, trigger=trigger, slot=slot, full=full, reason=reason, holder=self.holder
        )
        name = src.name
        opts: dict[str, object] = {"queue": QUEUE, "lock": host_lock(src), "queueing_lock": lock_key(name)}
        if jitter:
            opts["schedule_in"] = {"seconds": random.uniform(0, jitter)}
        return run_id, self.app.configure_task(CRAWL, **opts), {"source": name, "full": full, "run_id": run_id}

    def _outcome(self, name: str, run_id: int, job_id: int | None, exc: Exception | None) -> str:
        if exc is None:
            logger.info("{}: queued as job {} (ledger run {})", name, job_id, run_id)
            return f"queued as job {job_id}"
        if isinstance(exc, _procrastinate().exceptions.AlreadyEnqueued):
            close_row(self.engine, run_id, "coalesced", "coalesced into the crawl of this source already queued")
            logger.info("{}: a crawl is already queued; coalesced", name)
            return "coalesced: a crawl of this source is already queued"
        close_row(self.engine, run_id, "skipped", f"could not enqueue: {exc}")
        logger.error("{}: could not enqueue: {}", name, exc)
        return f"skipped: could not enqueue: {exc}"

    def enqueue(
        self,
        src: SourceConfig,
        source_id: int,
        *,
        trigger: str,
        slot: datetime | None = None,
        full: bool = False,
        reason: str | None = None,
        jitter: float = 0,
    ) -> str:
        run_id, deferrer, args = self._prepare(src, source_id, trigger, slot, full, reason, jitter)
        try:
            job_id, exc = deferrer.defer(**args), None
        except Exception as err:  # noqa: BLE001 - every outcome is a ledger row
            job_id, exc = None, err
        return self._outcome(src.name, run_id, job_id, exc)

    async def enqueue_async(
        self,
        src: SourceConfig,
        source_id: int,
        *,
        trigger: str,
        slot: datetime | None = None,
        full: bool = False,
        reason: str | None = None,
    ) -> str:
        run_id, deferrer, args = self._prepare(src, source_id, trigger, slot, full, reason, 0)
        try:
            job_id, exc = await deferrer.defer_async(**args), None
        except Exception as err:  # noqa: BLE001
            job_id, exc = None, err
        return self._outcome(src.name, run_id, job_id, exc)

    def enqueue_reparse(self, source: str) -> int | None:
        """Queue a re-parse of one source's archive (no network: no host lock; the source's lease keeps
        it apart from the source's crawls); None when one is already waiting."""
        try:
            return self.app.configure_task(REPARSE, queue=QUEUE, queueing_lock=f"reparse:{source}").defer(source=source)
        except _procrastinate().exceptions.AlreadyEnqueued:
            return None


def queue_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Jobs by task and status, e.g. {'xxgk.crawl': {'todo': 3, 'doing': 2, 'succeeded': 40}}."""
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        if conn.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar() is None:
            return out
        for task, status, n in conn.exec_driver_sql(
            "SELECT task_name, status::text, count(*) FROM procrastinate_jobs GROUP BY 1, 2"
        ):
            out.setdefault(task, {})[status] = n
    return out
