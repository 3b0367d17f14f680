"""One crawl run of one source: the run ledger, the lister and the document pipeline, wired together.

- scraper/run_ledger.py: the only writer of the run's row (start, end) and of the retry list;
- scraper/lister.py: walks the columns and queues what to fetch;
- scraper/pipeline.py: fetch -> parse once -> attachments -> archive and record, one document at a time.

Incremental by default: a column stops paging after STOP_AFTER consecutive list items that are
known and unchanged in the list. `full` walks every page, re-fetches every document, and checks
the URLs the lists no longer show (404/410 there marks them gone; a document with no live URL left
is withdrawn, its archived copies kept). The source's retry list (documents that failed before) is
tried first.

Every database step goes through `db` to the run's group writer (storage/group_commit.py): one
thread commits many steps per transaction, blobs and journal fsynced once per batch before it, so
fetching and parsing never wait on the database or the disk. A database outage pauses the crawl
(fetching waits, so nothing is fetched that cannot be stored) and it goes on when the database is
back (storage/retry.py). Under a lease, each batch first checks in its transaction that the lease is
still ours: a crawl that lost it writes nothing more and ends `interrupted`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from loguru import logger
from sqlalchemy.engine import Engine

from scraper import metrics
from scraper.attachments import FileFetcher
from scraper.blocking import block_reason, wall_of
from scraper.config import Config, SourceConfig
from scraper.fetch import Fetcher, FetchError, FetchPolicy, FetchResult
from scraper.lister import Lister
from scraper.parse_pool import ParsePool
from scraper.pipeline import DocumentPipeline
from scraper.portals import ListItem, portal_class
from scraper.run_ledger import RunLedger, RunSummary, ensure_source, source_family
from storage import retry, write_batch
from storage.archive import BlobStore, PutResult
from storage.captures import latest_file
from storage.crawl_write import insert_capture
from storage.group_commit import GroupWriter
from storage.journal import JournaledStore, adopt
from storage.leases import LeaseLost, held
from storage.retry import Abandoned

__all__ = ["Crawl", "RunSummary", "crawl_source", "ensure_source"]
Progress = Callable[..., None]


class Crawl:
    def __init__(
        self,
        cfg: Config,
        src: SourceConfig,
        engine: Engine,
        store: BlobStore,
        *,
        full: bool = False,
        max_pages: int | None = None,
        trigger: str = "manual",
        progress: Progress | None = None,
        scheduled_for=None,
        reason: str | None = None,
        holder: str | None = None,
        run_id: int | None = None,
        lease_lost: Callable[[], str | None] = lambda: None,
    ):
        self.cfg, self.src, self.engine, self.store = cfg, src, engine, store
        self.full, self.max_pages, self.holder = full, max_pages, holder
        self.stopping = False
        self.lost: str | None = None  # why this crawl lost its lease (it then writes nothing)
        self.database_lost = False  # stopped by a database outage longer than db_outage_seconds
        self.lease_lost = lease_lost  # the heartbeat's verdict (schedules/runner.py)
        self.db_up = asyncio.Event()  # cleared while the database is away: fetching waits
        self.db_up.set()
        self.progress = progress or (lambda *a, **k: None)
        self.abort: str | None = None
        self.source_id = ensure_source(engine, src)
        self.ledger = RunLedger(
            self.source_id,
            src.name,
            full=full,
            trigger=trigger,
            adopt=run_id,
            fields={"scheduled_for": scheduled_for, "reason": reason, "holder": holder},
        )
        # configured, implied by selectors, or remembered from an earlier detection
        self.family = src.family or ("generic" if src.selectors else None) or source_family(engine, self.source_id)
        hosts = {urlsplit(u).hostname for u in src.start_urls} | set(src.hosts)
        if self.family:
            hosts |= {h for u in src.start_urls for h in portal_class(self.family).hosts(u)}
        self.policy = FetchPolicy.from_settings(
            cfg.settings,
            obey_robots=src.obey_robots,
            rate=src.rate,
            concurrency=src.concurrency,
            allowed_hosts=frozenset(hosts),
            wall_check=lambda res: block_reason(res.status, res.body, res.content_type),
        )
        self.lister = Lister(self)
        self.pipeline = DocumentPipeline(self)

    @property
    def run_id(self) -> int | None:
        return self.ledger.run_id

    def stop(self, abort: str | None = None) -> None:
        """Stop gracefully: no more listing, queued documents dropped, in-flight ones finish.
        With `abort` (a reason) the run counts as failed rather than interrupted."""
        self.stopping = True
        self.abort = self.abort or abort

    def lose(self, reason: str) -> None:
        """The lease is gone: write nothing more, end `interrupted`, saying why."""
        if self.lost is None:
            self.lost = reason
            logger.error("{}: {}; stopping (nothing more is written)", self.src.name, reason)
        self.stop()

    # -- the database -------------------------------------------------------------------------
    async def db(self, fn: Callable[[Any], Any], fenced: bool = True) -> Any:
        """fn(session) committed by the run's group writer (with whatever else is waiting), tried
        again through a database outage. Fenced (every write of the crawl): only while the lease is
        ours, checked in the transaction."""
        try:
            return await self.writer(fn, fenced=fenced and bool(self.holder))
        except Abandoned as exc:
            self.lose(str(exc))
            raise
        except Exception as exc:
            if retry.transient(exc):
                self.database_lost = True
                self.stop(f"database unreachable for over {retry.patience(self.engine):.0f} s: {exc}")
            raise

    def _open_writer(self) -> GroupWriter:
        loop = asyncio.get_running_loop()

        def fence(s) -> None:
            if not held(s.connection(), self.source_id, self.holder):
                raise LeaseLost(f"lost the lease on {self.src.name} (another process holds it, or it lapsed)")

        def paused(down: bool) -> None:  # fetching waits while the database is away
            loop.call_soon_threadsafe(self.db_up.clear if down else self.db_up.set)

        def staged() -> int:
            return self.store.staged() if isinstance(self.store, JournaledStore) else 0

        def before_commit(upto: int) -> None:  # the batch's blobs and journal lines, durable first
            if isinstance(self.store, JournaledStore):  # (and those the batch's units staged themselves)
                self.store.durable_upto(upto)
                return
            sync = getattr(self.store, "sync", None)
            if sync:
                sync()

        return GroupWriter(
            self.engine,
            before_commit=before_commit,
            staged=staged,
            fence=fence,
            paused=paused,
            abort=lambda: self.lost or self.lease_lost(),
            name=self.src.name,
        )

    # -- the run ------------------------------------------------------------------------------
    async def run(self) -> RunSummary:
        self.writer = self._open_writer()
        try:
            return await self._run()
        finally:
            await self.writer.close()
            logger.debug("{}: {} writes in {} transactions", self.src.name, self.writer.units, self.writer.batches)

    async def _run(self) -> RunSummary:
        run, retries = await self.db(self.ledger.start)
        self.summary = RunSummary(
            run_id=run.id, source=self.src.name, mode=run.mode, family=self.family, resumed=self.ledger.resumed
        )
        started = time.monotonic()
        try:
            journal = JournaledStore(self.store, self.cfg.data_dir / "journal" / f"run-{run.id}.journal")
        except OSError as exc:  # nothing fetched yet: the run fails, saying why
            await self._finish("failed", started, f"cannot write the run journal: {exc}")
            return self.summary
        self.store = journal
        journal.start_syncer()
        fatal: str | None = None
        try:
            await self._crawl(retries)
        except asyncio.CancelledError:  # the process is ending: its end is recorded unless the database is away
            self.writer.halt(f"run {run.id} was cancelled while the database was away")
            await self._finish("interrupted", started, "cancelled")
            await self._close_journal(journal)
            raise
        except Abandoned:
            pass  # the lease is lost: self.lost says why
        except Exception as exc:  # noqa: BLE001 - a run never dies silently: record, then report
            if retry.transient(exc):
                logger.error("crawl of {} stopped: {}", self.src.name, exc)
            else:
                logger.exception("crawl of {} failed", self.src.name)
            fatal = f"{type(exc).__name__}: {exc}"
        await self._finish(self._status(fatal), started, fatal)
        await self._close_journal(journal)
        self.store = journal.store
        return self.summary

    async def _crawl(self, retries: list) -> None:
        """The retry list first, then the lister feeding the pipeline's workers; then the end-of-run passes."""
        self.parser = ParsePool(self.cfg.settings.parse_workers)
        try:
            await self._crawl_with(retries)
        finally:
            await asyncio.to_thread(self.parser.close)  # its workers' CPU stays in self.parser.cpu

    async def _crawl_with(self, retries: list) -> None:
        async with Fetcher(self.policy, on_robots=self._archive_robots) as self.fetcher:
            self.files = FileFetcher(
                self.fetch, self._archive_file, self._archived_file, self.cfg.settings.max_attachment_bytes
            )
            queue: asyncio.Queue = asyncio.Queue(maxsize=200)
            # more documents in flight than requests (the host gate holds those to `concurrency`): while
            # some wait for their group commit, the others keep the connections busy
            workers = [
                asyncio.create_task(self.pipeline.worker(queue)) for _ in range(max(2, self.src.concurrency * 8))
            ]
            try:
                for row in retries:
                    self.pipeline.retry_urls.add(row.url)
                    self.lister.listed_urls.add(row.url)
                    await queue.put(
                        (ListItem(row.url, row.list_title, row.list_date, row.list_meta or {}), row.recheck)
                    )
                await self.lister.walk(queue)
                await queue.join()
                await self.pipeline.retry_failed(queue)
            finally:
                for w in workers:
                    w.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
                await self.files.close()
            self.summary.requests = self.fetcher.requests
            self.summary.attachments = self.files.downloaded
            self.summary.attachment_errors = len(self.files.failed)
            self.summary.problems.extend(self.files.failed)

    def _status(self, fatal: str | None) -> str:
        sm, list_problems = self.summary, self.lister.problems
        sm.errors = len(self.pipeline.failed)
        if self.lost:
            sm.problems.append(self.lost)
            return "interrupted"
        if self.abort:
            sm.problems.append(self.abort)
            return "failed"
        if self.stopping:
            return "interrupted"
        if fatal or (list_problems and not sm.listed):
            return "failed"
        return "partial" if (sm.errors or list_problems) else "ok"

    async def _finish(self, status: str, started: float, error: str | None) -> None:
        """Record the run's end, and its failed documents on the retry list. When even that cannot
        reach the database, the run stays 'running' until whoever finds it next (the next crawl, a
        daemon's or worker's sweep) closes it as interrupted: its lease is gone by then."""
        sm, failed = self.summary, self.pipeline.failed
        sm.status, sm.seconds = status, round(time.monotonic() - started, 3)
        for url, (_item, _recheck, why) in failed.items():
            logger.error("document failed: {}: {}", why.reason, url)
            sm.problems.append(f"{why.reason}: {url}")
        if error:
            sm.problems.append(error)
        try:
            await self.db(lambda s: self.ledger.end(s, sm, failed, lost=bool(self.lost)), fenced=False)
        except Exception as exc:  # noqa: BLE001 - said, and mended by whoever finds the run next
            logger.error(
                "run {} of {}: could not record its end ({}: {}); it is closed as interrupted by whoever finds it next",
                sm.run_id,
                sm.source,
                type(exc).__name__,
                exc,
            )
        logger.info(
            "run {} {} {}: {} listed, {} fetched, {} new, {} changed, {} unchanged, "
            "{} withdrawn, {} errors, {} requests in {:.1f}s",
            sm.run_id,
            sm.source,
            sm.status,
            sm.listed,
            sm.fetched,
            sm.new,
            sm.changed,
            sm.unchanged,
            sm.withdrawn,
            sm.errors,
            sm.requests,
            sm.seconds,
        )

    async def _close_journal(self, journal: JournaledStore) -> None:
        """Every blob of this run has its rows, unless a batch failed to commit: then the blobs the
        journal names get their rows now (or from the next run's recovery, if the database is away)."""
        failed = self.writer.failed_batches > 0
        journal.close(keep=failed)
        if failed:
            try:
                await asyncio.to_thread(adopt, self.engine, journal.store, journal.path)
            except Exception as exc:  # noqa: BLE001 - the journal stays for the next run's recovery
                logger.warning("run {}: blobs left for the next run's recovery ({})", self.run_id, exc)

    # -- fetching and archiving ---------------------------------------------------------------
    async def fetch(self, url: str, **kw) -> FetchResult:
        """Fetch only while the database can take what comes back."""
        await self.db_up.wait()
        if self.lost:
            raise FetchError(url, self.lost)
        return await self.fetcher.fetch(url, **kw)

    def stage(self, res: FetchResult) -> PutResult:
        """Write the body's blob now (journalled, pending): the group writer makes it durable before
        the transaction that records it begins, so the database's write lock is held for SQL only."""
        return self.store.put(res.body)

    async def fetch_list(self, url: str, **kw) -> FetchResult:
        res = await self.fetch(url, **kw)
        put = self.stage(res)
        await self.db(lambda s: self.archive(res, "list", s, put=put))
        blocked = wall_of(res)
        if blocked:
            self.summary.blocked += 1
            raise FetchError(url, f"blocked: {blocked}")
        return res

    async def _archive_robots(self, res: FetchResult) -> None:
        await self.db(lambda s: self.archive(res, "robots", s))

    async def _archive_file(self, res: FetchResult, error: str | None) -> tuple[str, int]:
        put = self.stage(res)
        cap = await self.db(lambda s: self.archive(res, "attachment", s, error, put=put))
        return cap.sha256, cap.size

    async def _archived_file(self, url: str):
        return await self.db(lambda s: latest_file(s, url), fenced=False)

    def archive(self, res: FetchResult, kind: str, s, error: str | None = None, put: PutResult | None = None):
        """Blob first (durable before the batch commits; `put`: staged already), then the capture row,
        in the caller's transaction."""
        cap = insert_capture(
            write_batch.connection(s),
            put or self.store.put(res.body),
            url=res.url,
            status=res.status,
            headers=res.headers,
            method=res.method,
            request_headers=res.request_headers,
            request_body=res.request_body,
            fetched_at=res.fetched_at,
            run_id=self.run_id,
            source_id=self.source_id,
            kind=kind,
            error=error,
        )
        metrics.observe(self.src.name, res.status, len(res.body), res.seconds)
        return cap


async def crawl_source(cfg: Config, src: SourceConfig, engine: Engine, store: BlobStore, **kw) -> RunSummary:
    return await Crawl(cfg, src, engine, store, **kw).run()
