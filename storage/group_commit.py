"""Group commit: one writer thread commits many units of work per transaction, off the event loop.

A unit is `fn(session)`. A batch first runs without savepoints; when a unit fails (an integrity error,
a bad row) the transaction is rolled back and the batch runs again with each unit in its own savepoint,
so the failing unit is rolled back alone and its caller gets the exception, while the others commit
(units are already re-runnable: a transient error re-runs the whole batch). Before the
transaction commits, `before_commit(n)` makes the blobs and journal lines the batch wrote durable
(storage/journal.py, storage/archive.py), so no committed row ever names a blob that a crash could
lose: `staged()` numbers what was staged when a unit came, n is the batch's highest (what the units
stage themselves counts too). A transient database error re-runs the whole batch (storage/retry.py),
so units must only write through the session and the blob store. Callers that stage their blobs before
submitting (the crawl does) have them made durable before the transaction even begins, so the
database's write lock is held for SQL only. Fenced units (a crawl's writes under a lease)
first run `fence(session)` in the same transaction: it raises when the lease is no longer ours.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage import retry, write_batch
from storage.db import session

MAX_BATCH = 64  # units per transaction: tens of ms of SQLite's write lock at most (lease renewals wait on it)


class _UnitFailed(Exception):
    """A unit raised in a batch run without savepoints (its exception is the __cause__)."""


@dataclass
class _Unit:
    fn: Callable[[Session], Any]
    fenced: bool
    future: asyncio.Future
    staged: int  # staged() when it came: its blobs are among these


class GroupWriter:
    def __init__(
        self,
        engine: Engine,
        *,
        before_commit: Callable[[int], None] = lambda staged: None,
        staged: Callable[[], int] = lambda: 0,
        fence: Callable[[Session], None] = lambda s: None,
        abort: Callable[[], str | None] = lambda: None,
        paused: Callable[[bool], None] = lambda down: None,
        name: str = "writer",
    ):
        self.engine, self.before_commit, self.fence, self.abort = engine, before_commit, fence, abort
        self.paused, self.staged = paused, staged
        self.batches = self.units = 0
        self.failed_batches = 0  # batches that did not commit (their blobs may be without rows)
        self.reruns = 0  # batches run again with a savepoint per unit (one of their units failed)
        self._halted: str | None = None  # halt(): a batch meeting the database away is given up, not waited for
        write_batch.hook(engine)
        self._loop = asyncio.get_running_loop()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"group-commit-{name}", daemon=True)
        self._thread.start()

    async def __call__(self, fn: Callable[[Session], Any], fenced: bool = True) -> Any:
        """fn(session) committed (with whatever else is waiting); its result, or its exception."""
        future = self._loop.create_future()
        self._queue.put(_Unit(fn, fenced, future, self.staged()))
        return await future

    def halt(self, reason: str) -> None:
        """From now on a batch tries the database once more but never waits for it through an outage (a run
        cancelled at shutdown: its process must end; what is not committed is recovered by the next run)."""
        self._halted = reason

    def _give_up(self, fenced: bool) -> str | None:
        if self._halted is not None and retry.outage.since is not None:
            return self._halted
        return self.abort() if fenced else None

    async def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        closing = False
        while not closing:
            unit = self._queue.get()
            if unit is None:
                return
            batch = [unit]
            while len(batch) < MAX_BATCH:
                try:
                    unit = self._queue.get_nowait()
                except queue.Empty:
                    break
                if unit is None:
                    closing = True
                    break
                batch.append(unit)
            for fenced in (True, False):
                units = [u for u in batch if u.fenced == fenced]
                if units:
                    self._commit(units, fenced)

    @staticmethod
    def _batched(s: Session, units: list[_Unit]) -> list[tuple[bool, Any]]:
        """The common case: no savepoint, the units' Core rows in one batch; a failure (a unit's, or
        the batch's writes) re-runs the batch isolated."""
        batch = write_batch.begin(s, len(units))
        out = []
        try:
            for unit in units:
                out.append((True, unit.fn(s)))
                s.flush()  # its ORM rows written now: a failure is its own, not the commit's
            batch.flush()
        except Exception as exc:
            raise _UnitFailed() from exc
        finally:
            write_batch.end(s)
        return out

    def _commit(self, units: list[_Unit], fenced: bool) -> None:
        staged = max(u.staged for u in units)

        def transaction(isolated: bool) -> list[tuple[bool, Any]]:
            out = []
            self.before_commit(staged)  # blobs staged before their units came: durable, outside the lock
            with session(self.engine) as s:
                if fenced:
                    self.fence(s)
                if not isolated:
                    out = self._batched(s, units)
                for unit in units if isolated else ():
                    try:
                        with s.begin_nested():  # released (flushed) before its result counts
                            value = unit.fn(s)
                        out.append((True, value))
                    except Exception as exc:  # noqa: BLE001 - handed to that unit's caller
                        if retry.transient(exc):
                            raise  # the whole batch is tried again
                        out.append((False, exc))
                self.before_commit(staged)
                s.commit()
            return out

        def attempt() -> list[tuple[bool, Any]]:
            """Optimistically without savepoints (two statements fewer per unit); when a unit fails, the
            transaction is rolled back whole and the batch runs again with a savepoint per unit, so the
            failing unit alone gets its exception (a transient error is raised: the batch is retried)."""
            try:
                return transaction(isolated=False)
            except _UnitFailed as failed:
                cause = failed.__cause__
                if retry.transient(cause):
                    raise cause from None
                if len(units) == 1:  # nothing else to commit
                    return [(False, cause)]
                self.reruns += 1
                return transaction(isolated=True)

        try:
            results = retry.call(self.engine, attempt, abort=lambda: self._give_up(fenced), paused=self.paused)
        except Exception as exc:  # noqa: BLE001 - every unit of the batch fails with it
            results = [(False, exc)] * len(units)
            self.failed_batches += 1
        self.batches += 1
        self.units += len(units)
        # One callback for the batch (in order): a wake-up of the event loop per batch, not per unit.
        self._loop.call_soon_threadsafe(
            _settle, [(unit.future, ok, value) for unit, (ok, value) in zip(units, results)]
        )


def _settle(settled: list[tuple[asyncio.Future, bool, Any]]) -> None:
    for future, ok, value in settled:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
