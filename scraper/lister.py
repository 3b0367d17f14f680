"""The lister: walks a source's columns (its portal family's list pages) and queues the documents
to fetch. Incremental runs stop paging after STOP_AFTER items in a row that are known and listed as
before (their last_seen moves); a full run walks everything, then queues the URLs no list shows any
more for a recheck (404/410 there marks them gone)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from functools import partial
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

from loguru import logger

from scraper.decode import decode_html
from scraper.fetch import FetchError
from scraper.portals import ListItem, ListProblem, Portal, detect, portal_class, signatures
from scraper.run_ledger import remember_family
from storage.documents import known_listing, live_urls, touch_url

if TYPE_CHECKING:
    from scraper.crawl import Crawl

STOP_AFTER = 10


class Lister:
    def __init__(self, crawl: Crawl):
        self.crawl = crawl
        self.listed_urls: set[str] = set()
        self.problems = 0  # list pages that failed

    async def walk(self, queue: asyncio.Queue) -> None:
        """Every column of the source; then (full runs whose lists all read) the URLs no list showed."""
        c = self.crawl
        for column in c.src.start_urls:
            await self._walk_column(column, queue)
        if c.full and not (self.problems or c.stopping) and c.summary.listed:
            for url in await self._unlisted():
                await queue.put((ListItem(url), True))

    async def _walk_column(self, column: str, queue: asyncio.Queue) -> None:
        c = self.crawl
        portal = await self._portal(column)
        if portal is None:
            return
        known_run = 0
        items = cast(AsyncGenerator, portal.items())
        try:
            async for item in items:
                if c.stopping:
                    return
                if isinstance(item, ListProblem):
                    self.problem(item.url, item.reason, item.layout)
                    continue
                if item.url in self.listed_urls or not self._on_site(item.url):
                    continue
                self.listed_urls.add(item.url)
                c.summary.listed += 1
                c.progress("listed", total=portal.total)
                if not c.full and await c.db(partial(self._known, item=item)):
                    c.summary.unchanged += 1
                    c.progress("done", outcome="known")
                    known_run += 1
                    if known_run >= STOP_AFTER and not c.summary.resumed:
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

    async def _portal(self, column: str) -> Portal | None:
        c = self.crawl
        options = {"selectors": c.src.selectors.model_dump(exclude_none=True)} if c.src.selectors else {}
        if c.family:
            return portal_class(c.family)(column, c.fetch_list, c.max_pages, options, retry_delay=c.policy.backoff)
        try:
            res = await c.fetch_list(column)
        except FetchError as exc:
            self.problem(column, exc.reason)
            return None
        found = detect(column, decode_html(res.body, res.content_type)[0])
        if found is None:
            self.problem(
                column,
                f"cannot tell the portal family of this column page (looked for {signatures()}); "
                'set family (and for a plain list, family = "generic" with selectors)',
                layout=True,
            )
            return None
        logger.info("{}: detected family {} {}", column, found.family, found.params)
        c.summary.family = found.family
        await c.db(lambda s: remember_family(s, c.source_id, found.family))
        c.policy.allowed_hosts = c.policy.allowed_hosts | found.portal.hosts(column)
        return found.portal(column, c.fetch_list, c.max_pages, options, retry_delay=c.policy.backoff)

    async def _unlisted(self) -> list[str]:
        c = self.crawl
        return sorted(set(await c.db(lambda s: live_urls(s, c.source_id), fenced=False)) - self.listed_urls)

    def _on_site(self, url: str) -> bool:
        p = urlsplit(url)
        return p.scheme in ("http", "https") and p.hostname in self.crawl.policy.allowed_hosts

    def problem(self, url: str, reason: str, layout: bool = False) -> None:
        sm = self.crawl.summary
        self.problems += 1
        sm.layout_problems += layout
        sm.problems.append(f"{reason}: {url}")
        logger.error("list page problem: {}: {}", reason, url)
