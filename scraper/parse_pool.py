"""Parsing beside the event loop: document pages parsed in worker processes (spawned: safe beside the
writer thread and a daemon's threads), so a second core parses while the event loop fetches and the
writer records. Parsing is pure (bytes in, Parsed out): a worker needs nothing but the page.

`workers` 0 parses on the event loop (no processes). A pool that breaks (a worker killed) is not
restarted: the pages of the rest of the run are parsed on the event loop.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from loguru import logger

from scraper.children import die_with_parent
from scraper.parse import ParseError
from scraper.process import parse_page
from storage.documents import Parsed


def _parse(body: bytes, url: str, content_type: str | None) -> tuple[Parsed | str, float]:
    """(the page parsed, or the ParseError's reason) and the CPU seconds it took, in a worker."""
    cpu = time.process_time()
    try:
        out: Parsed | str = parse_page(body, url, content_type)
    except ParseError as exc:
        out = exc.reason
    return out, time.process_time() - cpu


class ParsePool:
    def __init__(self, workers: int):
        self.workers = workers
        self.cpu = 0.0  # CPU seconds the workers spent parsing
        self._pool: ProcessPoolExecutor | None = None
        if workers > 0:
            self._pool = ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            )

    async def parse(self, body: bytes, url: str, content_type: str | None) -> Parsed:
        """The page parsed (raises ParseError on a bad page), in a worker when there is a pool."""
        if self._pool is not None:
            try:
                out, cpu = await asyncio.get_running_loop().run_in_executor(self._pool, _parse, body, url, content_type)
            except BrokenProcessPool:
                logger.warning("the parse workers are gone: parsing on the event loop for the rest of the run")
                self._pool = None
            else:
                self.cpu += cpu
                if isinstance(out, str):
                    raise ParseError(out)
                return out
        return parse_page(body, url, content_type)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
