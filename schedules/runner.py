"""One run of one source under its lease: the path every crawl takes (foreground, daemon, trigger).

The lease makes a source crawled by one process at a time, across processes; the heartbeat (its own
thread, schedules/keeper.py) keeps it while the crawl lives, and a crawl that cannot renew it stops
before it lapses; health is assessed from the run and the runs before it. Every database step rides
out an outage (storage/retry.py).
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import datetime

from loguru import logger
from sqlalchemy.engine import Engine

from schedules.health import OK, assess
from schedules.keeper import LeaseKeeper
from schedules.ledger import mark_stale_runs, previous_runs
from schedules.notify import register_watches
from scraper.config import Config, SourceConfig
from scraper.crawl import Crawl, RunSummary, ensure_source
from scraper.extract.stage import files_beside
from storage import outbox, retry
from storage.archive import BlobStore
from storage.db import session
from storage.journal import recover
from storage.leases import acquire, holder_of, release
from storage.models import CrawlRun, Source

EXIT_BUSY = 3  # the CLI has its own copy (cli/context.py), so that it starts without this module


def new_holder(role: str = "crawl") -> str:
    """A name unique to this process: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}:{uuid.uuid4().hex[:6]}"


class SourceBusy(Exception):
    def __init__(self, source: str, holder: str, until: datetime | None):
        when = f" (lease until {until:%Y-%m-%d %H:%M:%S}Z)" if until else ""
        super().__init__(f"source {source!r} is being crawled by {holder}{when}")
        self.source, self.holder = source, holder


class SourceRun:
    """Acquire the lease, crawl, heartbeat, assess health, release. `stop()` ends it gracefully."""

    def __init__(self, cfg: Config, src: SourceConfig, engine: Engine, store: BlobStore, *, holder: str, **crawl_kw):
        self.cfg, self.src, self.engine, self.store = cfg, src, engine, store
        self.holder, self.crawl_kw = holder, crawl_kw
        self.crawl: Crawl | None = None
        self.source_id: int | None = None
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True
        if self.crawl:
            self.crawl.stop()

    async def run(self, wait: bool = False) -> RunSummary:
        st = self.cfg.settings  # issue 17: the text of archived files is read beside the run (own processes)
        async with files_beside(self.engine, self.store, st.extract_files, st.extract_workers, lambda: self.stopped):
            return await self._run(wait)

    async def _run(self, wait: bool) -> RunSummary:
        # off the event loop: through an outage this waits (patience) while heartbeats and signals go on
        self.source_id = source_id = await asyncio.to_thread(ensure_source, self.engine, self.src)
        register_watches(self.cfg, self.engine)
        ttl = self.cfg.settings.lease_seconds
        db = self.engine
        while (busy := await retry.call_async(db, lambda: acquire(db, source_id, self.holder, ttl))) is not None:
            if not wait or self.stopped:
                held = holder_of(db, source_id)
                raise SourceBusy(self.src.name, busy, held[1] if held else None)
            await asyncio.sleep(min(1.0, ttl / 4))
        self.keeper = keeper = LeaseKeeper(db, source_id, self.src.name, self.holder, ttl).start()
        watch = asyncio.create_task(self._watch(keeper))
        try:
            await retry.call_async(db, lambda: mark_stale_runs(db, source_id))
            await retry.call_async(db, lambda: recover(db, self.store, self.cfg.data_dir / "journal"))
            self.crawl = Crawl(
                self.cfg, self.src, db, self.store, holder=self.holder, lease_lost=keeper.lost, **self.crawl_kw
            )
            if self.stopped:
                self.crawl.stop()
            summary = await self.crawl.run()
        finally:
            watch.cancel()
            keeper.stop()
            retry.quietly(db, lambda: release(db, source_id, self.holder), "releasing the lease")
        if not self.crawl.lost:  # else the source is another crawler's now
            await retry.call_async(db, lambda: self._health(source_id, summary))
        return summary

    async def _watch(self, keeper: LeaseKeeper) -> None:
        """A lost lease stops the crawl at once, not only at its next write."""
        while (why := keeper.lost()) is None:
            await asyncio.sleep(min(0.5, keeper.margin / 2))
        if self.crawl is not None:
            self.crawl.lose(why)

    def _health(self, source_id: int, summary: RunSummary) -> None:
        earlier = previous_runs(self.engine, source_id, summary.run_id)
        with session(self.engine) as s:
            run = s.get(CrawlRun, summary.run_id)
            state, reason = assess(run, earlier)
            run.health = state
            src = s.get(Source, source_id)
            if state != src.health and not (src.health == "UNKNOWN" and state == OK):
                outbox.record(
                    s, outbox.HEALTH, source_id=source_id, detail={"from": src.health, "to": state, "reason": reason}
                )
            src.health, src.health_reason = state, reason
            s.add_all([run, src])
            s.commit()
        summary.health = state
        if state != OK:
            logger.warning("source {} is {}: {}", self.src.name, state, reason)
