"""One crawl run of one source, top-down: discover -> fetch -> archive -> parse -> store.

Incremental by default: a column stops paging after STOP_AFTER consecutive list items that are
known and unchanged in the list. `full` walks every page, re-fetches every document, and checks
the URLs the lists no longer show (404/410 there marks them gone; a document with no live URL left
is withdrawn, its archived copies kept). The source's retry list (documents that failed before) is
tried first.

Every database step goes through `_db` to the run's group writer (storage/group_commit.py): one
thread commits many steps per transaction, blobs and journal fsynced once per batch before it, so
fetching and parsing never wait on the database or the disk. A database outage pauses the crawl
(fetching waits, so nothing is fetched that cannot be stored) and it goes on when the database is
back (storage/retry.py). Under a lease, each batch first checks in its transaction that the lease is
still ours: a crawl that lost it writes nothing more and ends `interrupted`.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

from loguru import logger
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, select

from scraper import metrics
from scraper.attachments import FileFetcher
from scraper.blocking import block_reason
from scraper.config import Config, SourceConfig
from scraper.decode import decode_html
from scraper.fetch import BadAnswer, FetchError, FetchPolicy, FetchResult, Fetcher, RobotsDisallowed
from scraper.outcomes import BadPage, Blocked, Failed, FetchFailed, Gone, Outcome, Refused, Stored
from scraper.parse import ParseError
from scraper.portals import ListItem, ListProblem, Portal, detect, portal_class, signatures
from scraper.process import links, parse_page, record_page
from storage import retry, retry_list
from storage.archive import BlobStore
from storage.captures import archive_response, latest_file
from storage.db import session
from storage.group_commit import GroupWriter
from storage.documents import Parsed, known_listing, live_urls, mark_gone, touch_url
from storage.journal import JournaledStore, adopt
from storage.leases import LeaseLost, held
from storage.models import COUNTERS, CrawlRun, RunCounters, Source, utcnow
from storage.retry import Abandoned

STOP_AFTER = 10
RETRY_PASSES = 2          # failed documents are tried again at the end of the run, this many times
BLOCKED_STREAK = 10       # this many anti-bot answers in a row end the run (politeness)
GONE = {404, 410}
UNFINISHED = ("running", "interrupted", "failed")
Progress = Callable[..., None]


class RunSummary(RunCounters):
    """A run as its caller sees it: the ledger's counters and more."""
    run_id: int
    source: str
    mode: str
    status: str = "running"
    seconds: float = 0.0
    resumed: bool = False
    health: Optional[str] = None
    family: Optional[str] = None         # as configured, remembered or detected
    attachments: int = 0                 # files downloaded and archived
    attachment_errors: int = 0           # files that could not be fetched (the document is still stored)
    problems: list[str] = Field(default_factory=list)

    def as_dict(self) -> dict:
        head = ("run_id", "source", "mode", "status", *COUNTERS)      # the order `--json` has always had
        return {k: getattr(self, k) for k in (*head, *(f for f in type(self).model_fields if f not in head))}


def ensure_source(engine: Engine, src: SourceConfig) -> int:
    """The source's row id, made on first use. Processes starting together may race to make it (on
    PostgreSQL nothing serialises them): the loser of the race reads the winner's row."""
    def upsert() -> int:
        with session(engine) as s:
            row = s.exec(select(Source).where(Source.name == src.name)).first() or Source(name=src.name)
            row.family, row.title = src.family or row.family, src.title or row.title
            s.add(row)
            s.commit()
            return row.id
    try:
        return retry.call(engine, upsert)
    except IntegrityError:
        return retry.call(engine, upsert)


def source_family(engine: Engine, source_id: int) -> Optional[str]:
    def read() -> Optional[str]:
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


class Crawl:
    def __init__(self, cfg: Config, src: SourceConfig, engine: Engine, store: BlobStore, *,
                 full: bool = False, max_pages: Optional[int] = None, trigger: str = "manual",
                 progress: Optional[Progress] = None,
                 scheduled_for=None, reason: Optional[str] = None, holder: Optional[str] = None,
                 run_id: Optional[int] = None, lease_lost: Callable[[], Optional[str]] = lambda: None):
        self.cfg, self.src, self.engine, self.store = cfg, src, engine, store
        self.adopt = run_id             # a 'queued' ledger row (schedules/queue.py) this run becomes
        self.full, self.max_pages, self.trigger = full, max_pages, trigger
        self.run_fields = {"scheduled_for": scheduled_for, "reason": reason, "holder": holder}
        self.stopping = False
        self.lost: Optional[str] = None           # why this crawl lost its lease (it then writes nothing)
        self.database_lost = False                # stopped by a database outage longer than db_outage_seconds
        self.lease_lost = lease_lost              # the heartbeat's verdict (schedules/runner.py)
        self.db_up = asyncio.Event()              # cleared while the database is away: fetching waits
        self.db_up.set()
        self.retry_urls: set[str] = set()         # URLs on the source's retry list
        self.progress = progress or (lambda *a, **k: None)
        st = cfg.settings
        self.source_id = ensure_source(engine, src)
        # configured, implied by selectors, or remembered from an earlier detection
        self.family = src.family or ("generic" if src.selectors else None) or source_family(engine, self.source_id)
        hosts = {urlsplit(u).hostname for u in src.start_urls} | set(src.hosts)
        if self.family:
            hosts |= {h for u in src.start_urls for h in portal_class(self.family).hosts(u)}
        self.policy = FetchPolicy(
            user_agent=st.user_agent, timeout=st.timeout, max_body_bytes=st.max_body_bytes,
            retries=st.retries, backoff=st.backoff, obey_robots=src.obey_robots, rate=src.rate,
            concurrency=src.concurrency, allowed_hosts=frozenset(hosts),
            wall_check=lambda res: block_reason(res.status, res.body, res.content_type))
        self.listed_urls: set[str] = set()
        self.list_problems = 0
        self.failed: dict[str, tuple[ListItem, bool, Failed]] = {}    # url -> (item, recheck, why)
        self.blocked_streak = 0
        self.abort: Optional[str] = None

    def stop(self, abort: Optional[str] = None) -> None:
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

    async def _db(self, fn: Callable[[Any], Any], fenced: bool = True) -> Any:
        """fn(session) committed by the run's group writer (with whatever else is waiting), tried
        again through a database outage. Fenced (every write of the crawl): only while the lease is
        ours, checked in the transaction."""
        try:
            return await self.writer(fn, fenced=fenced and bool(self.run_fields["holder"]))
        except Abandoned as exc:
            self.lose(str(exc))
            raise
        except Exception as exc:
            if retry.transient(exc):
                self.database_lost = True
                self.stop(f"database unreachable for over {retry.patience(self.engine):.0f} s: {exc}")
            raise

    def _open_writer(self) -> GroupWriter:
        holder, loop = self.run_fields["holder"], asyncio.get_running_loop()

        def fence(s) -> None:
            if not held(s.connection(), self.source_id, holder):
                raise LeaseLost(f"lost the lease on {self.src.name} (another process holds it, or it lapsed)")

        def paused(down: bool) -> None:        # fetching waits while the database is away
            loop.call_soon_threadsafe(self.db_up.clear if down else self.db_up.set)

        def before_commit() -> None:           # the batch's blobs and journal lines, durable first
            sync = getattr(self.store, "sync", None)
            if sync:
                sync()
        return GroupWriter(self.engine, before_commit=before_commit, fence=fence, paused=paused,
                           abort=lambda: self.lost or self.lease_lost(), name=self.src.name)

    def _resuming(self, s) -> bool:
        """After a run that did not finish, walk the lists past the known items (no early stop)."""
        last = s.exec(select(CrawlRun.status).where(
            CrawlRun.source_id == self.source_id, CrawlRun.id != self.run_id,
            CrawlRun.status.not_in(("coalesced", "skipped", "queued"))).order_by(CrawlRun.id.desc())).first()
        return last in UNFINISHED

    # -- the run ------------------------------------------------------------------------------
    async def run(self) -> RunSummary:
        self.writer = self._open_writer()
        try:
            return await self._run()
        finally:
            await self.writer.close()
            logger.debug("{}: {} writes in {} transactions", self.src.name, self.writer.units, self.writer.batches)

    async def _run(self) -> RunSummary:
        def start(s) -> tuple[CrawlRun, list]:
            run = (s.get(CrawlRun, self.adopt) if self.adopt else None) or CrawlRun(source_id=self.source_id)
            run.trigger, run.mode, run.status = self.trigger, "full" if self.full else "incremental", "running"
            run.started_at = utcnow()
            for key, value in self.run_fields.items():
                setattr(run, key, value)
            s.add(run)
            s.flush()
            self.run_id = run.id
            self.resumed = not self.full and self._resuming(s)
            return run, retry_list.waiting(s, self.source_id)
        run, retries = await self._db(start)
        self.summary = RunSummary(run_id=run.id, source=self.src.name, mode=run.mode, family=self.family)
        self.summary.resumed = self.resumed
        started = time.monotonic()
        try:
            journal = JournaledStore(self.store, self.cfg.data_dir / "journal" / f"run-{run.id}.journal")
        except OSError as exc:        # nothing fetched yet: the run fails, saying why
            await self._finish("failed", started, f"cannot write the run journal: {exc}")
            return self.summary
        self.store = journal
        fatal: Optional[str] = None
        try:
            async with Fetcher(self.policy, on_robots=self._archive_robots) as self.fetcher:
                self.files = FileFetcher(self._fetch, self._archive_file, self._archived_file,
                                         self.cfg.settings.max_attachment_bytes)
                queue: asyncio.Queue = asyncio.Queue(maxsize=200)
                workers = [asyncio.create_task(self._worker(queue))
                           for _ in range(max(2, self.src.concurrency * 2))]
                try:
                    for row in retries:          # what failed before goes first
                        self.retry_urls.add(row.url)
                        self.listed_urls.add(row.url)
                        await queue.put((ListItem(row.url, row.list_title, row.list_date, row.list_meta or {}),
                                         row.recheck))
                    for column in self.src.start_urls:
                        await self._walk_column(column, queue)
                    if self.full and not (self.list_problems or self.stopping) and self.summary.listed:
                        for url in await self._unlisted():
                            await queue.put((ListItem(url), True))
                    await queue.join()
                    await self._retry_failed(queue)
                finally:
                    for w in workers:
                        w.cancel()
                    await asyncio.gather(*workers, return_exceptions=True)
                    await self.files.close()
                self.summary.requests = self.fetcher.requests
                self.summary.attachments = self.files.downloaded
                self.summary.attachment_errors = len(self.files.failed)
                self.summary.problems.extend(self.files.failed)
        except asyncio.CancelledError:
            await self._finish("interrupted", started, "cancelled")
            await self._close_journal(journal)
            raise
        except Abandoned:
            pass                      # the lease is lost: self.lost says why
        except Exception as exc:  # noqa: BLE001 - a run never dies silently: record, then report
            if retry.transient(exc):
                logger.error("crawl of {} stopped: {}", self.src.name, exc)
            else:
                logger.exception("crawl of {} failed", self.src.name)
            fatal = f"{type(exc).__name__}: {exc}"
        status = self._status(fatal)
        await self._finish(status, started, fatal)
        await self._close_journal(journal)
        self.store = journal.store
        return self.summary

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

    def _status(self, fatal: Optional[str]) -> str:
        self.summary.errors = len(self.failed)
        if self.lost:
            self.summary.problems.append(self.lost)
            return "interrupted"
        if self.abort:
            self.summary.problems.append(self.abort)
            return "failed"
        if self.stopping:
            return "interrupted"
        if fatal or (self.list_problems and not self.summary.listed):
            return "failed"
        return "partial" if (self.summary.errors or self.list_problems) else "ok"

    async def _retry_failed(self, queue: asyncio.Queue) -> None:
        """Transient failures (network, 5xx, walls, broken bodies) get more chances, later."""
        for n in range(RETRY_PASSES):
            again = [(item, recheck) for item, recheck, why in self.failed.values() if not isinstance(why, Refused)]
            walled = sum(1 for _i, _r, why in self.failed.values() if isinstance(why, Blocked))
            if not again or self.stopping or walled * 2 >= len(again) >= 3:
                return
            logger.info("{}: retrying {} failed documents (pass {})", self.src.name, len(again), n + 1)
            await asyncio.sleep(self.policy.backoff * 4 * (n + 1))
            for item, recheck in again:
                del self.failed[item.url]
                await queue.put((item, recheck))
            await queue.join()

    async def _finish(self, status: str, started: float, error: Optional[str]) -> None:
        """Record the run's end, and its failed documents on the retry list. When even that cannot
        reach the database, the run stays 'running' until whoever finds it next (the next crawl, a
        daemon's or worker's sweep) closes it as interrupted: its lease is gone by then."""
        sm = self.summary
        sm.status, sm.seconds = status, round(time.monotonic() - started, 3)
        for url, (_item, _recheck, why) in self.failed.items():
            logger.error("document failed: {}: {}", why.reason, url)
            sm.problems.append(f"{why.reason}: {url}")
        if error:
            sm.problems.append(error)

        def end(s) -> None:
            if not self.lost:             # the source is another crawler's now: its retry list too
                for url, (item, recheck, why) in self.failed.items():
                    row = retry_list.failed(s, self.source_id, url, why.reason, list_title=item.title,
                                            list_date=item.date, list_meta=item.meta, recheck=recheck)
                    if row.given_up_at is not None:
                        sm.problems.append(f"given up after {row.tries} tries: {why.reason}: {url}")
            run = s.get(CrawlRun, self.run_id)
            for k in ("status", *COUNTERS):
                setattr(run, k, getattr(sm, k))
            run.finished_at = utcnow()
            run.error = "\n".join(sm.problems[:50]) or None
            s.add(run)
        try:
            await self._db(end, fenced=False)
        except Exception as exc:  # noqa: BLE001 - said, and mended by whoever finds the run next
            logger.error("run {} of {}: could not record its end ({}: {}); it is closed as interrupted by "
                         "whoever finds it next", sm.run_id, sm.source, type(exc).__name__, exc)
        logger.info("run {} {} {}: {} listed, {} fetched, {} new, {} changed, {} unchanged, "
                    "{} withdrawn, {} errors, {} requests in {:.1f}s", sm.run_id, sm.source, sm.status,
                    sm.listed, sm.fetched, sm.new, sm.changed, sm.unchanged, sm.withdrawn, sm.errors,
                    sm.requests, sm.seconds)

    # -- listing ------------------------------------------------------------------------------
    async def _walk_column(self, column: str, queue: asyncio.Queue) -> None:
        portal = await self._portal(column)
        if portal is None:
            return
        known_run = 0
        items = portal.items()
        try:
            async for item in items:
                if self.stopping:
                    return
                if isinstance(item, ListProblem):
                    self._problem(item.url, item.reason, item.layout)
                    continue
                if item.url in self.listed_urls or not self._on_site(item.url):
                    continue
                self.listed_urls.add(item.url)
                self.summary.listed += 1
                self.progress("listed", total=portal.total)
                if not self.full and await self._db(lambda s: self._known(s, item)):
                    self.summary.unchanged += 1
                    self.progress("done", outcome="known")
                    known_run += 1
                    if known_run >= STOP_AFTER and not self.summary.resumed:
                        logger.debug("{}: {} known items in a row, stop paging", column, known_run)
                        return
                    continue
                known_run = 0
                await queue.put((item, False))
        finally:
            await items.aclose()

    @staticmethod
    def _known(s, item: ListItem) -> bool:
        """Known, and the list says the same about it as last time (then only last_seen moves)."""
        if known_listing(s, item.url) != (item.title, item.date, item.meta or {}):
            return False
        touch_url(s, item.url, item.title, item.date)
        return True

    async def _portal(self, column: str) -> Optional[Portal]:
        options = {"selectors": self.src.selectors.model_dump(exclude_none=True)} if self.src.selectors else {}
        if self.family:
            return portal_class(self.family)(column, self._fetch_list, self.max_pages, options,
                                             retry_delay=self.policy.backoff)
        try:
            res = await self._fetch_list(column)
        except FetchError as exc:
            self._problem(column, exc.reason)
            return None
        found = detect(column, decode_html(res.body, res.content_type)[0])
        if found is None:
            self._problem(column, f"cannot tell the portal family of this column page (looked for {signatures()}); "
                          "set family (and for a plain list, family = \"generic\" with selectors)", layout=True)
            return None
        logger.info("{}: detected family {} {}", column, found.family, found.params)
        self.summary.family = found.family
        await self._db(lambda s: remember_family(s, self.source_id, found.family))
        self.policy.allowed_hosts = self.policy.allowed_hosts | found.portal.hosts(column)
        return found.portal(column, self._fetch_list, self.max_pages, options, retry_delay=self.policy.backoff)

    async def _unlisted(self) -> list[str]:
        return sorted(set(await self._db(lambda s: live_urls(s, self.source_id), fenced=False)) - self.listed_urls)

    def _on_site(self, url: str) -> bool:
        p = urlsplit(url)
        return p.scheme in ("http", "https") and p.hostname in self.policy.allowed_hosts

    def _problem(self, url: str, reason: str, layout: bool = False) -> None:
        self.list_problems += 1
        self.summary.layout_problems += layout
        self.summary.problems.append(f"{reason}: {url}")
        logger.error("list page problem: {}: {}", reason, url)

    # -- fetching and archiving ---------------------------------------------------------------
    async def _fetch(self, url: str, **kw) -> FetchResult:
        """Fetch only while the database can take what comes back."""
        await self.db_up.wait()
        if self.lost:
            raise FetchError(url, self.lost)
        return await self.fetcher.fetch(url, **kw)

    async def _fetch_list(self, url: str, **kw) -> FetchResult:
        res = await self._fetch(url, **kw)
        await self._db(lambda s: self._archive(res, "list", s))
        blocked = block_reason(res.status, res.body, res.content_type)
        if blocked:
            self.summary.blocked += 1
            raise FetchError(url, f"blocked: {blocked}")
        return res

    async def _archive_robots(self, res: FetchResult) -> None:
        await self._db(lambda s: self._archive(res, "robots", s))

    async def _archive_file(self, res: FetchResult, error: Optional[str]) -> tuple[str, int]:
        cap = await self._db(lambda s: self._archive(res, "attachment", s, error))
        return cap.sha256, cap.size

    async def _archived_file(self, url: str):
        return await self._db(lambda s: latest_file(s, url), fenced=False)

    def _archive(self, res: FetchResult, kind: str, s, error: Optional[str] = None):
        """Blob first (fsynced), then the capture row, in the caller's transaction."""
        cap = archive_response(
            s, self.store, url=res.url, status=res.status, body=res.body, headers=res.headers,
            method=res.method, request_headers=res.request_headers, request_body=res.request_body,
            fetched_at=res.fetched_at, run_id=self.run_id, source_id=self.source_id, kind=kind, error=error)
        metrics.observe(self.src.name, res.status, len(res.body), res.seconds)
        return cap

    async def _worker(self, queue: asyncio.Queue) -> None:
        while True:
            item, recheck = await queue.get()
            try:
                if not self.stopping:
                    await self._document(item, recheck)
            except Abandoned:
                pass                   # the lease is lost: the next run fetches what this one did not store
            except Exception as exc:  # noqa: BLE001 - one bad document never stops the crawl
                logger.exception("unexpected error on {}", item.url)
                self._error(item, recheck, Failed(f"unexpected {type(exc).__name__}: {exc}"))
            finally:
                queue.task_done()

    async def _document(self, item: ListItem, recheck: bool) -> None:
        """Fetch one document page (and its attachments); archive, parse once from the bytes in memory,
        store. A bad answer that is not a network error (those the fetcher already retried) — a binary
        or oversized body, a redirect loop, an error page — is asked for again a few times first."""
        for attempt in range(self.policy.retries + 1):
            outcome = await self._attempt(item, recheck)
            if not isinstance(outcome, BadPage) or self.stopping:
                break               # network errors and walls were already retried by the fetcher
            await asyncio.sleep(self.policy.backoff * 2 ** attempt)
        if isinstance(outcome, Blocked):
            self.summary.blocked += 1
            self.blocked_streak += 1
            if self.blocked_streak >= BLOCKED_STREAK:
                self.stop(f"stopped after {BLOCKED_STREAK} anti-bot answers in a row")
        else:
            self.blocked_streak = 0
        if isinstance(outcome, Failed):
            return self._error(item, recheck, outcome)
        if isinstance(outcome, Gone):
            self.summary.withdrawn += outcome.withdrawn
            return self.progress("done", outcome="withdrawn" if outcome.withdrawn else "gone")
        for warning in outcome.warnings:
            logger.warning("{}: {}", item.url, warning)
        self.summary.no_metadata += not outcome.has_metadata
        setattr(self.summary, outcome.counter, getattr(self.summary, outcome.counter) + 1)
        self.progress("done", outcome=outcome.counter)

    async def _attempt(self, item: ListItem, recheck: bool) -> Outcome:
        try:
            res = await self._fetch(item.url)
        except RobotsDisallowed as exc:
            return Refused(exc.reason)
        except BadAnswer as exc:
            return BadPage(exc.reason)
        except FetchError as exc:
            return FetchFailed(exc.reason)
        self.summary.fetched += 1
        page = self._read(res, recheck)
        files = None
        if self.src.attachments and isinstance(page, Parsed):
            files = await self.files.files(links(page))

        def store(s) -> Outcome:
            cap = self._archive(res, "article", s)
            outcome = self._store(s, cap, page, item, recheck, files)
            if item.url in self.retry_urls and not isinstance(outcome, Failed):
                retry_list.done(s, self.source_id, item.url)
            return outcome
        return await self._db(store)

    @staticmethod
    def _read(res: FetchResult, recheck: bool) -> Parsed | Failed | None:
        """The fetched page parsed from its bytes in memory, or why it is not a document (None: gone)."""
        if res.status in GONE and recheck:
            return None
        blocked = block_reason(res.status, res.body, res.content_type)
        if blocked:
            return Blocked(f"blocked: {blocked}")
        if res.status != 200:
            return FetchFailed(f"HTTP {res.status}")     # the fetcher already retried 5xx/429
        try:
            return parse_page(res.body, res.url, res.content_type)
        except ParseError as exc:
            return BadPage(f"parse error: {exc.reason}")

    def _store(self, s, cap, page: Parsed | Failed | None, item: ListItem, recheck: bool, files) -> Outcome:
        """Record one archived document page as read by `_read`, in the caller's transaction."""
        if page is None:
            return Gone(mark_gone(s, item.url))
        if isinstance(page, Failed):
            cap.error = page.reason
            s.add(cap)
            return page
        counter, parsed = self._record(s, cap, page, item, recheck, files)
        return Stored(counter, parsed.record.get("warnings") or [], bool(parsed.record.get("has_metadata", True)))

    def _record(self, s, cap, page: Parsed, item: ListItem, recheck: bool, files) -> tuple[str, Parsed]:
        """record_page (a savepoint of its own); once more when another process stored the same
        document (same 索引号, another source) between our read and our write: the second try finds
        its row."""
        for attempt in (1, 2):
            try:
                outcome, _doc, parsed = record_page(
                    s, self.store, cap, page, self.source_id, url=item.url,
                    list_title=None if recheck else item.title, list_date=None if recheck else item.date,
                    list_meta=None if recheck else item.meta, files=files)
                return outcome, parsed
            except IntegrityError:
                if attempt == 2:
                    raise
                logger.debug("{}: stored by another crawl just now; reading it back", item.url)

    def _error(self, item: ListItem, recheck: bool, why: Failed) -> None:
        """Remember a failed document; the end-of-run passes try it again, the rest are errors."""
        self.failed[item.url] = (item, recheck, why)
        self.summary.errors = len(self.failed)
        logger.warning("document failed (retried at the end of the run): {}: {}", why.reason, item.url)
        self.progress("done", outcome="error")


async def crawl_source(cfg: Config, src: SourceConfig, engine: Engine, store: BlobStore,
                       **kw) -> RunSummary:
    return await Crawl(cfg, src, engine, store, **kw).run()
