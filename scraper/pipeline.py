"""The document pipeline, one way: fetch -> parse once from the bytes in memory -> fetch the files it
links -> archive and record (one unit of the run's group commit).

Each outcome is a type (scraper/outcomes.py). Failed documents are remembered; the end-of-run passes
try them again, and what still fails goes on the source's retry list (scraper/run_ledger.py).
An anti-bot streak of BLOCKED_STREAK ends the run (politeness)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from loguru import logger
from sqlalchemy.exc import IntegrityError

from scraper.blocking import wall_of
from scraper.fetch import BadAnswer, FetchError, FetchResult, RobotsDisallowed
from scraper.outcomes import BadPage, Blocked, Dropped, Failed, FetchFailed, Gone, Outcome, Refused, Stored
from scraper.parse import ParseError
from scraper.parse_pool import ParsePool
from scraper.portals import ListItem
from scraper.process import links, record_crawled
from scraper.run_ledger import Failures
from storage import retry_list
from storage.documents import Parsed, mark_gone
from storage.retry import Abandoned

if TYPE_CHECKING:
    from scraper.crawl import Crawl

RETRY_PASSES = 2  # failed documents are tried again at the end of the run, this many times
BLOCKED_STREAK = 10  # this many anti-bot answers in a row end the run (politeness)
GONE = {404, 410}


class DocumentPipeline:
    def __init__(self, crawl: Crawl):
        self.crawl = crawl
        self.failed: Failures = {}
        self.retry_urls: set[str] = set()  # URLs on the source's retry list
        self.blocked_streak = 0
        # documents between the queue and their answer: as many as the host gate lets fetch at once (the
        # crawl runs more workers, so that others wait on their group commit meanwhile); one waiting
        # here when the run stops is dropped, not fetched
        self.fetching = asyncio.Semaphore(max(1, crawl.src.concurrency))

    async def worker(self, queue: asyncio.Queue) -> None:
        while True:
            item, recheck = await queue.get()
            try:
                if not self.crawl.stopping:
                    await self._document(item, recheck)
            except Abandoned:
                pass  # the lease is lost: the next run fetches what this one did not store
            except Exception as exc:  # noqa: BLE001 - one bad document never stops the crawl
                logger.exception("unexpected error on {}", item.url)
                self._error(item, recheck, Failed(f"unexpected {type(exc).__name__}: {exc}"))
            finally:
                queue.task_done()

    async def retry_failed(self, queue: asyncio.Queue) -> None:
        """Transient failures (network, 5xx, walls, broken bodies) get more chances, later."""
        c = self.crawl
        for n in range(RETRY_PASSES):
            again = [(item, recheck) for item, recheck, why in self.failed.values() if not isinstance(why, Refused)]
            walled = sum(1 for _i, _r, why in self.failed.values() if isinstance(why, Blocked))
            if not again or c.stopping or walled * 2 >= len(again) >= 3:
                return
            logger.info("{}: retrying {} failed documents (pass {})", c.src.name, len(again), n + 1)
            await asyncio.sleep(c.policy.backoff * 4 * (n + 1))
            for item, recheck in again:
                del self.failed[item.url]
                await queue.put((item, recheck))
            await queue.join()

    async def _document(self, item: ListItem, recheck: bool) -> None:
        """A page that came back but is no document (does not parse, oversized, a redirect loop) is
        asked for again while the fetcher's retry policy allows (network errors, 5xx and walls the
        fetcher already retried)."""
        c, sm = self.crawl, self.crawl.summary
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(item, recheck)
            if isinstance(outcome, Dropped):
                return
            if (
                not isinstance(outcome, BadPage)
                or c.stopping
                or not await c.fetcher.again(item.url, attempt, outcome.reason)
            ):
                break
        if isinstance(outcome, Blocked):
            sm.blocked += 1
            self.blocked_streak += 1
            if self.blocked_streak >= BLOCKED_STREAK:
                c.stop(f"stopped after {BLOCKED_STREAK} anti-bot answers in a row")
        else:
            self.blocked_streak = 0
        if isinstance(outcome, Failed):
            return self._error(item, recheck, outcome)
        if isinstance(outcome, Gone):
            sm.withdrawn += outcome.withdrawn
            return c.progress("done", outcome="withdrawn" if outcome.withdrawn else "gone")
        for warning in outcome.warnings:
            logger.warning("{}: {}", item.url, warning)
        sm.no_metadata += not outcome.has_metadata
        setattr(sm, outcome.counter, getattr(sm, outcome.counter) + 1)
        c.progress("done", outcome=outcome.counter)

    async def _attempt(self, item: ListItem, recheck: bool) -> Outcome:
        c = self.crawl
        try:
            async with self.fetching:
                if c.stopping:
                    return Dropped()
                res = await c.fetch(item.url)
        except RobotsDisallowed as exc:
            return Refused(exc.reason)
        except BadAnswer as exc:
            return BadPage(exc.reason)
        except FetchError as exc:
            return FetchFailed(exc.reason)
        c.summary.fetched += 1
        page = await read(c.parser, res, recheck)
        files = None
        if c.src.attachments and isinstance(page, Parsed):
            files = await c.files.files(links(page))

        put = c.stage(res)
        error = page.reason if isinstance(page, Failed) else None

        def store(s) -> Outcome:
            cap = c.archive(res, "article", s, error, put=put)
            outcome = self._store(s, cap, page, item, recheck, files)
            if item.url in self.retry_urls and not isinstance(outcome, Failed):
                retry_list.done(s, c.source_id, item.url)
            return outcome

        return await c.db(store)

    def _store(self, s, cap, page: Parsed | Failed | None, item: ListItem, recheck: bool, files) -> Outcome:
        """Record one archived document page as `read` found it, in the caller's transaction."""
        if page is None:
            return Gone(mark_gone(s, item.url))
        if isinstance(page, Failed):  # archived with its reason as the capture's error
            return page
        counter, parsed = self._record(s, cap, page, item, recheck, files)
        return Stored(counter, parsed.record.get("warnings") or [], bool(parsed.record.get("has_metadata", True)))

    def _record(self, s, cap, page: Parsed, item: ListItem, recheck: bool, files) -> tuple[str, Parsed]:
        """record_crawled (on PostgreSQL in a savepoint of its own); once more when another process
        stored the same document (same 索引号, another source) between our read and our write: the
        second try finds its row."""
        c = self.crawl
        for attempt in (1, 2):
            try:
                return record_crawled(
                    s,
                    c.store,
                    cap,
                    page,
                    c.source_id,
                    url=item.url,
                    list_title=None if recheck else item.title,
                    list_date=None if recheck else item.date,
                    list_meta=None if recheck else item.meta,
                    files=files,
                )
            except IntegrityError:
                if attempt == 2:
                    raise
                logger.debug("{}: stored by another crawl just now; reading it back", item.url)
        raise AssertionError("unreachable")

    def _error(self, item: ListItem, recheck: bool, why: Failed) -> None:
        """Remember a failed document; the end-of-run passes try it again, the rest are errors."""
        self.failed[item.url] = (item, recheck, why)
        self.crawl.summary.errors = len(self.failed)
        logger.warning("document failed (retried at the end of the run): {}: {}", why.reason, item.url)
        self.crawl.progress("done", outcome="error")


async def read(parser: ParsePool, res: FetchResult, recheck: bool) -> Parsed | Failed | None:
    """The fetched page parsed from its bytes in memory (by the run's parse workers, if it has
    any), or why it is not a document (None: gone)."""
    if res.status in GONE and recheck:
        return None
    blocked = wall_of(res)
    if blocked:
        return Blocked(f"blocked: {blocked}")
    if res.status != 200:
        return FetchFailed(f"HTTP {res.status}")  # the fetcher already retried 5xx/429
    try:
        return await parser.parse(res.body, res.url, res.content_type)
    except ParseError as exc:
        return BadPage(f"parse error: {exc.reason}")
