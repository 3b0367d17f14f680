"""The crawl's Core rows of one transaction written together (issue 13): each statement compiled once
per dialect and run on the DBAPI cursor, its rows held until the transaction ends and then sent as one
executemany per statement, ids of new rows allocated up front.

The group writer opens a `WriteBatch` for a transaction (`begin`); storage/crawl_write.py adds rows to
it (`using` gives it, or a batch of the call's own, written when the call returns). The rows are written:
- before any other statement runs on the connection (an ORM read or write, a savepoint: the
  engine's `before_execute` hook), so every read sees them;
- before a read of the batch's own (`read`) that touches a URL or document key the batch holds;
- when the transaction ends (`flush`, before the commit).
A failed write poisons the batch: every later use raises (the group writer then runs its units again,
each alone). Ids: SQLite under BEGIN IMMEDIATE (the write lock is ours) counts on from max(id), read
again after every write; PostgreSQL takes them from the table's sequence, as many as the transaction
has units left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from sqlalchemy import DateTime, Table, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.types import TypeDecorator, TypeEngine

KEY = "xxgk.write_batch"


class Statement:
    """A statement (Core, or driver SQL as is) compiled once per dialect; `phase` orders the writes of
    a batch (a row's parents first)."""

    def __init__(self, stmt: ClauseElement | str, phase: int = 0, keys: tuple[str, ...] | None = None):
        self.stmt, self.phase, self.keys = stmt, phase, keys
        self._compiled: dict[Any, tuple[str, Callable[[Any], Any]]] = {}

    def compiled(self, dialect) -> tuple[str, Callable[[Any], Any]]:
        """(SQL, row -> the DBAPI's parameters: the bind processors applied)."""
        got = self._compiled.get(dialect)
        if got is None:
            got = self._compiled[dialect] = self._compile(dialect)
        return got

    def _compile(self, dialect) -> tuple[str, Callable[[Any], Any]]:
        if isinstance(self.stmt, str):  # driver SQL: the values as given
            return self.stmt, lambda row: row
        c = self.stmt.compile(dialect=dialect, column_keys=list(self.keys) if self.keys else None)
        names = tuple(c.positiontup or ()) if c.positional else tuple(c.binds)
        if self.keys is not None and set(names) - set(self.keys):
            raise ValueError(f"{self.stmt}: binds {set(names) - set(self.keys)} are not given")
        procs = [
            (
                i,
                _shared(c._bind_processors[n], c.binds[n].type, dialect)
                if _is_datetime(c.binds[n].type)
                else c._bind_processors[n],
            )
            for i, n in enumerate(names)
            if n in c._bind_processors
        ]
        pick = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))

        def positional(row: dict) -> Any:
            values = pick(row)
            if not procs:
                return values
            out = list(values)
            for i, proc in procs:
                out[i] = proc(out[i])
            return out

        if c.positional:
            return c.string, positional
        return c.string, lambda row: dict(zip(names, positional(row)))

    def params(self, dialect, row: Any) -> Any:
        return self.compiled(dialect)[1](row)


_LAST: dict[tuple, list] = {}  # (dialect, type) -> [(the last value processed, its bound form)]
_NOTHING = object()


def _is_datetime(type_: TypeEngine) -> bool:
    return isinstance(type_.impl_instance if isinstance(type_, TypeDecorator) else type_, DateTime)


def _shared(proc: Callable[[Any], Any], type_: TypeEngine, dialect) -> Callable[[Any], Any]:
    """`proc` of a datetime column answering again, without processing, the very value it processed
    last for any column of the same type (a row's `now` fills several: ~12 datetimes a document, a
    third of them distinct). Datetimes are immutable and their processors pure; one cell, stored whole,
    so threads sharing it see a pair or the next one."""
    cell = _LAST.setdefault((type(dialect), type(type_), repr(type_)), [(_NOTHING, None)])

    def process(value: Any) -> Any:
        last = cell[0]
        if last[0] is value:
            return last[1]
        out = proc(value)
        cell[0] = (value, out)
        return out

    return process


class BatchFailed(Exception):
    """A write of this batch failed earlier (its exception is the __cause__)."""


ALLOCATED = ("captures", "documents", "document_versions")  # the tables whose new ids are allocated
_MAX_IDS = Statement("SELECT " + ", ".join(f"(SELECT max(id) FROM {t})" for t in ALLOCATED))
_NEXTVAL = Statement(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"))


class WriteBatch:
    def __init__(self, conn: Connection, capacity: int):
        self.conn, self.capacity = conn, max(capacity, 1)
        self.dialect, self.info = conn.dialect, conn.info  # the DBAPI connection's (the connection may close)
        self.pending: dict[Statement, list] = {}
        self.urls: set[str] = set()  # URLs and document keys whose rows are pending
        self.keys: set[str] = set()
        self.failed: BaseException | None = None
        self._ids: dict[str, list[int]] = {}  # table -> ids allocated, not handed out (popped from the end)
        self._used: dict[str, int] = {}
        self._cursor: Any = None

    # -- rows ---------------------------------------------------------------------------------
    def add(self, stmt: Statement, row: dict | tuple) -> None:
        self._check()
        self.pending.setdefault(stmt, []).append(row)

    def new_id(self, table: Table) -> int:
        self._check()
        name = table.name
        free = self._ids.get(name)
        if not free:
            free = self._ids[name] = self._allocate(name)
        self._used[name] = self._used.get(name, 0) + 1
        return free.pop()

    def _allocate(self, name: str) -> list[int]:
        """Ids for the units left, popped from the end."""
        n = max(self.capacity - self._used.get(name, 0), 1)
        if self.dialect.name == "sqlite":  # the three tables at once, counting on from each max
            if self._used.get(name):
                self.flush()  # ran out (more rows than units): the max must count the pending rows
            maxes = self._run_read(_MAX_IDS, ()) or ()
            for table, top in zip(ALLOCATED, maxes):
                if not self._ids.get(table):
                    self._ids[table] = list(range((top or 0) + n, top or 0, -1))
            return self._ids[name]
        rows = self._run_all(_NEXTVAL, {"t": name, "n": n})
        return [r[0] for r in reversed(rows)]

    def touch(self, url: str, key: str) -> None:
        self.urls.add(url)
        self.keys.add(key)

    def read(self, stmt: Statement, row: dict, url: str, key: str) -> tuple | None:
        """One row of `stmt`, the batch's rows for `url` / `key` written first when it holds some."""
        self._check()
        if url in self.urls or key in self.keys:
            self.flush()
        return self._run_read(stmt, row)

    # -- the DBAPI ----------------------------------------------------------------------------
    def _cur(self) -> Any:
        if self._cursor is None:
            self._cursor = self.conn.connection.cursor()
        return self._cursor

    def _announce(self, cur, sql: str, params: Any, many: bool) -> None:
        """The engine's cursor-execute listeners hear these statements too (statement counters)."""
        if self.conn._has_events or self.conn.engine._has_events:
            self.conn.dispatch.before_cursor_execute(self.conn, cur, sql, params, None, many)

    def _execute(self, stmt: Statement, row: dict | tuple) -> Any:
        """The cursor, `stmt` run on it for `row`."""
        sql, params = stmt.compiled(self.dialect)
        values = params(row)
        cur = self._cur()
        self._announce(cur, sql, values, False)
        cur.execute(sql, values)
        return cur

    def _run_read(self, stmt: Statement, row: dict | tuple) -> tuple | None:
        return self._execute(stmt, row).fetchone()

    def _run_all(self, stmt: Statement, row: dict) -> list:
        return self._execute(stmt, row).fetchall()

    def flush(self) -> None:
        """Write the pending rows, a statement at a time in phase order."""
        self._check()
        pending, self.pending = self.pending, {}
        self.urls, self.keys = set(), set()
        if self.dialect.name == "sqlite":
            self._ids.clear()  # what others insert next counts from the new max
            self._used.clear()
        if not pending:
            return
        try:
            cur = self._cur()
            for stmt in sorted(pending, key=lambda s: s.phase):
                sql, params = stmt.compiled(self.dialect)
                rows = [params(r) for r in pending[stmt]]
                self._announce(cur, sql, rows, True)
                cur.executemany(sql, rows)
        except BaseException as exc:
            self.failed = exc
            raise

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    def _check(self) -> None:
        if self.failed is not None:
            raise BatchFailed("an earlier write of this transaction's batch failed") from self.failed


def active(conn: Connection) -> WriteBatch | None:
    return conn.info.get(KEY)


def begin(s: Session, capacity: int) -> WriteBatch:
    """The batch of `s`'s transaction, for `capacity` units (the engine must be `hook`ed)."""
    conn = s.connection()
    batch = s.info[KEY] = WriteBatch(conn, capacity)
    batch.info[KEY] = batch
    return batch


def end(s: Session) -> None:
    batch = s.info.pop(KEY, None)
    if batch is not None:
        batch.info.pop(KEY, None)
        batch.close()


def connection(s: Session) -> Connection:
    """s.connection(), quicker while a batch is open (one lookup instead of the session's transaction
    machinery: ~80 µs a call)."""
    batch = s.info.get(KEY)
    return batch.conn if batch is not None else s.connection()


@contextmanager
def using(conn: Connection) -> Iterator[WriteBatch]:
    """The transaction's batch, or one of this call's own, written when the call returns."""
    batch = active(conn)
    if batch is not None:
        yield batch
        return
    batch = WriteBatch(conn, 1)
    try:
        yield batch
        batch.flush()
    finally:
        batch.close()


def _flush_first(conn: Connection, *_args) -> None:
    batch = conn.info.get(KEY)
    if batch is not None and (batch.pending or batch._ids):  # SQLite: others' inserts take the ids counted on
        batch.flush()


def hook(engine: Engine) -> None:
    """Pending rows are written before any other statement on the engine's connections, and before a commit."""
    for name in ("before_execute", "commit"):
        if not event.contains(engine, name, _flush_first):
            event.listen(engine, name, _flush_first)
