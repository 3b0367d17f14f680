"""Transient database errors: one policy, in one place.

A database that restarts, fails over, or is locked by another writer for a while is not a reason to
lose work: `call` (and `call_async`, which lets the event loop run meanwhile) re-runs a whole
transaction with backoff and jitter until it succeeds or the engine's patience (settings.db_outage_seconds)
runs out. Only transient errors are retried (connection refused, reset or closed, admin shutdown,
the server starting up or shutting down, serialization failures, deadlocks, SQLite "database is
locked"); anything else is raised at once. The process says so once per state change: a warning when
the database goes away, an info line when it is back.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from typing import TypeVar

from loguru import logger
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")
DEFAULT_PATIENCE = 120.0
FIRST_DELAY, MAX_DELAY = 0.1, 2.0
_PATIENCE: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()
_TRANSIENT_TEXT = (
    "database is locked",
    "database is busy",
    "shutting down",
    "starting up",
    "connection refused",
    "connection reset",
    "server closed the connection",
    "terminating connection",
    "connection is closed",
    "connection timeout",
    "could not connect",
    "consuming input failed",
    "deadlock detected",
    "could not serialize access",
    "the connection is lost",
)


class Abandoned(Exception):
    """A write given up before it ran, for the caller's reason (e.g. its lease is lost)."""


def set_patience(engine: Engine, seconds: float) -> None:
    _PATIENCE[engine] = seconds


def patience(engine: Engine) -> float:
    return _PATIENCE.get(engine, DEFAULT_PATIENCE)


def transient(exc: BaseException) -> bool:
    """Will the same transaction likely succeed if tried again in a moment?"""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        if _psycopg_transient(exc) or (isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)):
            return True
        if isinstance(exc, (DBAPIError, OSError)) and any(t in str(exc).lower() for t in _TRANSIENT_TEXT):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


def _psycopg_transient(exc: BaseException) -> bool:
    try:
        from psycopg import OperationalError, errors
    except ImportError:
        return False
    return isinstance(exc, (OperationalError, errors.SerializationFailure, errors.DeadlockDetected))


class _Outage:
    """This process's view of the database: logs once when it goes away and once when it is back."""

    def __init__(self):
        self.lock = threading.Lock()
        self.since: float | None = None
        self.last: str | None = None  # the last outage, for health: "unreachable 8.2 s (…)"

    def down(self, exc: BaseException) -> None:
        with self.lock:
            if self.since is None:
                self.since = time.monotonic()
                self.cause = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
                logger.warning("database unreachable ({}); waiting for it, work resumes when it is back", self.cause)

    def up(self) -> None:
        if self.since is None:
            return
        with self.lock:
            if self.since is not None:
                took = time.monotonic() - self.since
                self.since = None
                self.last = f"database unreachable for {took:.1f} s ({self.cause}), then back"
                logger.info("database back after {:.1f} s", took)


outage = _Outage()


class _Attempts:
    def __init__(self, engine: Engine):
        self.deadline = time.monotonic() + patience(engine)
        self.n = 0

    def delay(self, exc: BaseException) -> float:
        """The pause before the next try; re-raises `exc` when it is not transient or patience is spent."""
        if not transient(exc) or time.monotonic() >= self.deadline:
            raise exc
        outage.down(exc)
        self.n += 1
        pause = min(MAX_DELAY, FIRST_DELAY * 2 ** (self.n - 1)) * random.uniform(0.5, 1.5)
        return max(0.0, min(pause, self.deadline - time.monotonic()))


def call(
    engine: Engine,
    fn: Callable[[], T],
    abort: Callable[[], str | None] = lambda: None,
    paused: Callable[[bool], None] = lambda _down: None,
) -> T:
    """fn() (one whole transaction), tried again on transient errors; `abort()` names a reason to stop;
    `paused(True)` is said while waiting for the database, `paused(False)` when done (either way)."""
    tries = _Attempts(engine)
    try:
        while True:
            if (why := abort()) is not None:
                raise Abandoned(why)
            try:
                result = fn()
            except Exception as exc:  # noqa: BLE001 - sorted by tries.delay: transient or raised
                pause = tries.delay(exc)
                paused(True)
                time.sleep(pause)
                continue
            outage.up()
            return result
    finally:
        if tries.n:
            paused(False)


async def call_async(
    engine: Engine,
    fn: Callable[[], T],
    abort: Callable[[], str | None] = lambda: None,
    waiting: asyncio.Event | None = None,
) -> T:
    """`call` for an event loop: the pauses are asyncio sleeps; `waiting` is cleared while the database
    is away (a crawl's fetchers wait on it: nothing is fetched that cannot be stored)."""
    tries = _Attempts(engine)
    while True:
        if (why := abort()) is not None:
            raise Abandoned(why)
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001
            try:
                pause = tries.delay(exc)
            except Exception:
                if waiting is not None:
                    waiting.set()  # given up: the fetchers are not kept waiting for ever
                raise
            if waiting is not None:
                waiting.clear()
            await asyncio.sleep(pause)
            continue
        outage.up()
        if waiting is not None:
            waiting.set()
        return result


def quietly(engine: Engine, fn: Callable[[], T], what: str) -> T | None:
    """For periodic work (heartbeats, polls, sweeps): one try; a transient error is noted (once per
    outage), anything else logged with its traceback; the next period tries again."""
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 - periodic work outlives a database outage
        noted(exc, what)
        return None
    outage.up()
    return result


def ping(engine: Engine) -> bool:
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    return True


def noted(exc: BaseException, what: str) -> None:
    """A failure of periodic work: a transient one is the outage's (said once), else a traceback."""
    if transient(exc):
        outage.down(exc)
    else:
        logger.opt(exception=exc).error("{} failed", what)


def state() -> str | None:
    """For health: the outage now, else the last one ridden out, else None."""
    since = outage.since
    if since is not None:
        return f"database unreachable for {time.monotonic() - since:.0f} s so far ({outage.cause})"
    return outage.last
