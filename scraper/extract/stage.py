"""The extraction stage: archived file bytes -> text rows, in worker processes, never from the network.

Every archived attachment file is read once per extractor version, keyed by its sha256 (a file linked
by a hundred documents is read once). The extractors run in a process pool, so a crawl in the same
process keeps its core and its GIL, and a file that hangs or kills its worker costs only that file.
A worker lives as long as the stage unless a file crashes or hangs it, or its resident memory stays
above RECYCLE_RSS after a file (then the pool is replaced once the files in flight are done): starting
one costs a Python start and the extractors' imports, so it is not done every N files.
`files_beside` runs the stage beside the crawls of one process and drains it when the last one ends.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from loguru import logger
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from scraper.children import die_with_parent
from scraper.extract import worker
from scraper.extract.base import ERROR, Extracted, Limits
from scraper.extract.pick import version_of
from storage import file_texts, retry
from storage.archive import ArchiveError, BlobStore
from storage.db import read_session

Item = tuple[str, str]  # (sha256, a name the file was linked under)
POLL_SECONDS = 2.0
WRITE_BATCH, WRITE_SECONDS = 25, 1.0  # results are written this many at a time, or after this long
RECYCLE_RSS = 256 * 1024 * 1024  # a worker still this large after a file is replaced (memory a parser kept)
HANG_GRACE = 60.0  # seconds past Limits.seconds before the files in flight count as hung
Reader = Callable[[bytes, str, Limits], tuple[Extracted, float, int]]


@dataclass
class ExtractSummary:
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)  # ok, partial, empty, scanned, error, unsupported
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def line(self) -> str:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(self.by_status.items())) or "nothing to read"
        return f"{self.files} files read ({self.bytes / 1e6:,.1f} MB): {counts}"


def unread(engine: Engine, limit: int | None = None) -> list[Item]:
    with read_session(engine) as s:
        return file_texts.unread(s, limit)


def outdated(engine: Engine) -> list[Item]:
    """Files whose newest text was made by an extractor version older than today's."""
    with read_session(engine) as s:
        return [(sha, name) for sha, name, ver in file_texts.read_by(s) if version_of(ver.split("/", 1)[0]) != ver]


class FileTextStage:
    def __init__(
        self,
        engine: Engine,
        store: BlobStore,
        workers: int = 1,
        limits: Limits = Limits(),
        reader: Reader = worker.read,  # runs in the workers: a module-level function of a light module
    ):
        self.engine, self.store, self.workers, self.limits = engine, store, max(1, workers), limits
        self.reader = reader
        self._pool: ProcessPoolExecutor | None = None
        self.pools_started = 0  # worker pools started: 1 unless a file crashed, hung or bloated a worker
        self._recycle = False  # a worker kept too much memory: replace the pool when nothing is in flight
        self.skipped: set[str] = set()  # blobs the archive could not give back (verify names them)
        self.halt = False  # set: finish the files in flight, start no more
        self._pending: list[tuple[str, str, Extracted, float]] = []  # results not written yet
        self._pending_since = time.monotonic()
        self._running = False  # run() is reading: close() from another thread leaves the pool to it

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=die_with_parent,
                initargs=(os.getpid(), 10),  # nice 10: the workers yield the CPU to the crawl
            )
            self.pools_started += 1
        return self._pool

    def close(self, kill: bool = False) -> None:
        if self._running and not kill:  # a run is waiting on the pool (another thread): it closes it when done
            self.halt = True
            return
        self._shutdown(kill)

    def _shutdown(self, kill: bool) -> None:
        if self._pool is not None:
            if kill:  # a hung extractor: its process is ended, not waited for
                for proc in list(getattr(self._pool, "_processes", {}).values()):
                    proc.kill()
            self._pool.shutdown(wait=not kill, cancel_futures=True)
            self._pool = None

    def run(
        self,
        items: Iterable[Item],
        progress: Callable[[int], None] | None = None,
        summary: ExtractSummary | None = None,
    ) -> ExtractSummary:
        """Read `items` (a few in flight per worker), recording each result as it comes."""
        self._running = True
        try:
            return self._run(items, progress, summary)
        finally:
            self._running = False
            if self.halt:  # asked to close meanwhile
                self.close()

    def _run(
        self,
        items: Iterable[Item],
        progress: Callable[[int], None] | None,
        summary: ExtractSummary | None,
    ) -> ExtractSummary:
        sm = summary or ExtractSummary()
        step = progress or (lambda n: None)
        started = time.monotonic()
        todo = deque(it for it in items if it[0] not in self.skipped)
        flight: dict[Future, Item] = {}
        crashes: dict[str, int] = {}
        solo = 0  # after a crash, files go one at a time until the culprit is found
        while (todo and not self.halt) or flight:
            if self._recycle and not flight:  # every worker is idle: the bloated one goes with its pool
                self._recycle = False
                self._shutdown(kill=False)
            while todo and not self.halt and not self._recycle and len(flight) < (1 if solo else 2 * self.workers):
                solo = max(0, solo - 1)
                sha, name = todo.popleft()
                try:
                    data = self.store.get(sha)
                except ArchiveError as exc:
                    self.skipped.add(sha)
                    sm.problems.append(f"{sha}: {exc}")
                    logger.error("cannot read file {} from the archive: {}", sha, exc)
                    step(1)
                    continue
                sm.bytes += len(data)
                flight[self._executor().submit(self.reader, data, name, self.limits)] = (sha, name)
                del data
            if not flight:
                break
            done, _ = wait(flight, timeout=self.limits.seconds + HANG_GRACE, return_when=FIRST_COMPLETED)
            if not done:  # every file in flight hung past its budget
                for _fut, (sha, name) in flight.items():
                    self._record(
                        sm, sha, name, _failed(name, f"the extractor hung for over {self.limits.seconds:g} s"), 0
                    )
                    step(1)
                flight.clear()
                self.close(kill=True)
                continue
            for fut in done:
                if fut not in flight:  # a crash already put it back in the queue
                    continue
                sha, name = flight.pop(fut)
                try:
                    got, seconds, rss = fut.result()
                except BrokenProcessPool:  # the pool is gone: every file in flight goes back, read alone
                    self.close(kill=True)
                    suspects = [(sha, name), *flight.values()]
                    flight.clear()
                    crashes.update({s: crashes.get(s, 0) + 1 for s, _ in suspects})
                    culprits = [it for it in suspects if crashes[it[0]] > 1 or len(suspects) == 1]
                    for it in culprits:
                        self._record(
                            sm, *it, _failed(it[1], "the extractor crashed on this file (its worker died)"), 0.0
                        )
                        step(1)
                    again = [it for it in suspects if it not in culprits]
                    todo.extendleft(reversed(again))
                    solo = len(again)
                    continue
                if rss > RECYCLE_RSS and not self._recycle:
                    logger.info("an extraction worker holds {} MB after {}: it is replaced", rss >> 20, name)
                    self._recycle = True
                self._record(sm, sha, name, got, seconds)
                step(1)
        self._flush(sm)
        sm.seconds += time.monotonic() - started
        return sm

    def _record(self, sm: ExtractSummary, sha: str, name: str, got: Extracted, seconds: float) -> None:
        """Keep a result; they are written a batch at a time (one write transaction for many files, so the
        crawls' writers and lease renewals sharing a SQLite file are not held up by a write per file)."""
        if not self._pending:
            self._pending_since = time.monotonic()
        self._pending.append((sha, name, got, seconds))
        if len(self._pending) >= WRITE_BATCH or time.monotonic() - self._pending_since >= WRITE_SECONDS:
            self._flush(sm)

    def _flush(self, sm: ExtractSummary) -> None:
        batch, self._pending, self._pending_since = self._pending, [], time.monotonic()
        if not batch:
            return
        try:  # an outage is waited out unless the stage is stopping: unwritten files are read again next time
            retry.call(self.engine, lambda: self._write(batch), self._halted)
            written = batch
        except retry.Abandoned:
            logger.info("{} file texts not written (the database is away and the stage is stopping)", len(batch))
            return
        except IntegrityError:  # another process read one of these files meanwhile: write them one by one
            written = []
            for one in batch:
                try:
                    retry.call(self.engine, functools.partial(self._write, [one]), self._halted)
                    written.append(one)
                except IntegrityError:
                    logger.debug("file {} was read elsewhere meanwhile", one[0])
                except retry.Abandoned:
                    break
        for sha, name, got, _ in written:
            sm.files += 1
            sm.by_status[got.status] = sm.by_status.get(got.status, 0) + 1
            if got.status == ERROR:
                sm.problems.append(f"{name} ({sha[:12]}): {got.error}")
            logger.log(
                "WARNING" if got.status == ERROR else "DEBUG",
                "file text {} ({}): {}{}",
                name,
                sha[:12],
                got.status,
                f": {got.error}" if got.error else "",
            )

    def _write(self, batch: list[tuple[str, str, Extracted, float]]) -> None:
        readings = [
            file_texts.Reading(sha, g.extractor, g.version, g.library, g.status, g.pages, g.labels, g.error, seconds)
            for sha, _, g, seconds in batch
        ]
        with self.engine.begin() as conn:  # Core, a few statements for the whole batch
            file_texts.save_many(conn, readings)

    def _halted(self) -> str | None:
        return "the file text stage is stopping" if self.halt else None

    async def beside(self, done: asyncio.Event, poll: float = POLL_SECONDS) -> ExtractSummary:
        """Read new files as crawls archive them, until `done` is set and nothing is left."""
        sm = ExtractSummary()
        try:
            while not self.halt:
                finishing = done.is_set()
                try:  # an outage is waited out (as the crawls wait), unless the stage is told to stop
                    new = await asyncio.to_thread(
                        retry.call, self.engine, lambda: unread(self.engine, 50), self._halted
                    )
                except retry.Abandoned:
                    return sm
                items = [it for it in new if it[0] not in self.skipped]
                if items:
                    await asyncio.to_thread(self.run, items, None, sm)
                elif finishing:
                    return sm
                else:
                    try:
                        await asyncio.wait_for(done.wait(), poll)
                    except TimeoutError:
                        pass
            return sm
        finally:
            self.halt = True  # cancelled (Ctrl-C, shutdown): the thread reading stops after its files in flight
            await asyncio.shield(asyncio.to_thread(self.close))


def _failed(name: str, message: str) -> Extracted:
    return Extracted("none", "none/1", None, ERROR, error=message)


# -- beside the crawls of this process ------------------------------------------------------
_BESIDE: dict[int, dict] = {}  # id(engine) -> {"users", "done", "stage", "task"}


@asynccontextmanager
async def files_beside(
    engine: Engine,
    store: BlobStore,
    enabled: bool = True,
    workers: int = 1,
    stopping: Callable[[], bool] = lambda: False,
):
    """Around a crawl run: one extraction stage per process reads the files the runs archive. When the
    last run ends the stage finishes the files left in the background (a daemon's next run is never
    held up; a command about to exit awaits `files_drained()`), unless `stopping()` (a shutdown: the
    files in flight are finished, the rest wait for the next run or `xxgk extract`). A failure there
    is logged, never the run's."""
    if not enabled:
        yield
        return
    key = id(engine)
    slot = _BESIDE.get(key)
    if slot is None or slot["task"].done() or slot["stage"].halt:
        stage = FileTextStage(engine, store, workers)
        slot = _BESIDE[key] = {"users": 0, "done": asyncio.Event(), "stage": stage}
        slot["task"] = asyncio.create_task(stage.beside(slot["done"]))
        slot["task"].add_done_callback(_outcome)
    slot["done"].clear()
    slot["users"] += 1
    try:
        yield
    finally:
        slot["users"] -= 1
        if slot["users"] == 0:
            slot["stage"].halt = stopping()
            slot["done"].set()


async def files_drained() -> None:
    """Wait until the stages beside this process's ended runs have read every file left."""
    loop = asyncio.get_running_loop()
    for key, slot in list(_BESIDE.items()):
        task = slot["task"]
        if task.done():
            _BESIDE.pop(key, None)
        elif task.get_loop() is loop and slot["users"] == 0:  # not an earlier event loop's
            await asyncio.wait([task])


def _outcome(task: asyncio.Task) -> None:
    if task.cancelled():
        return
    if task.exception() is not None:  # extraction never fails a crawl
        logger.error("file text extraction stopped: {}", task.exception())
    elif task.result().files:
        logger.info("file text: {}", task.result().line())
