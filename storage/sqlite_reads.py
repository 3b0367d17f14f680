"""storage/doc_reads.py's queries on an embedded (SQLite) archive through stdlib sqlite3: `xxgk show` and
`xxgk ls` without importing SQLAlchemy (~0.2 s of a start-up that must stay under 0.3 s).

The SQL is storage/sqlite_sql.py, compiled from the Core statements of storage.queries.READS; values are
converted as SQLAlchemy's types convert them on SQLite (aware UTC datetimes, JSON decoded, booleans),
and so are the parameters (datetimes bound as UTC text).
Only an archive at the newest migration is read here: anything else (PostgreSQL, a URL with options, a
database to create or migrate) returns None from `open_reads` and takes the SQLAlchemy path.
"""

from __future__ import annotations

import json
import numbers
import sqlite3
from collections import namedtuple
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage.doc_reads import Reads, Row
from storage.schema_head import head_revision
from storage.sqlite_sql import QUERIES
from storage.stamps import as_utc

BUSY_SECONDS = 10.0  # as storage/db.py's engines wait for a writer's lock


def datetime_utc(value: Any) -> datetime | None:
    """SQLite's DateTime (`datetime.fromisoformat`), then storage.tables.UTCDateTime (aware, UTC)."""
    return None if value is None else as_utc(datetime.fromisoformat(value))


def json_value(value: Any) -> Any:
    """SQLite's JSON: decoded with json.loads; a number SQLite stored as one is returned as it is."""
    if value is None:
        return None
    try:
        return json.loads(value)
    except TypeError:
        if isinstance(value, numbers.Number):
            return value
        raise


def boolean(value: Any) -> bool | None:
    return None if value is None else bool(value)


CONVERT = {"datetime_utc": datetime_utc, "json": json_value, "bool": boolean}
EMPTY_IN = "SELECT 1 FROM (SELECT 1) WHERE 1!=1"  # what SQLAlchemy's SQLite dialect puts in an empty IN ()


def bind_datetime(value: datetime) -> str:
    """An aware datetime as storage.core_types.UTCDateTime, then SQLite's DateTime, bind it."""
    if value.utcoffset() is None:
        raise ValueError("datetimes bound to the archive's columns must be timezone-aware")
    v = value.astimezone(UTC)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"


BIND = {"datetime_utc": bind_datetime}


class SqliteReads(Reads):
    """One read transaction (a WAL snapshot: never blocks a writer) on the archive's SQLite file."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._rows: dict[str, tuple] = {}

    def stream(self, name: str, **params: Any) -> Iterator[Row]:
        sql, args, fixed, cols, kinds, arg_kinds = QUERIES[name]
        if name not in self._rows:
            self._rows[name] = (namedtuple("Row", cols), [(i, CONVERT[k]) for i, k in enumerate(kinds) if k])
        row_type, converts = self._rows[name]
        values: list[Any] = []
        for arg, kind in zip(args, arg_kinds, strict=True):
            value = params[arg] if arg in params else fixed[arg]
            if isinstance(value, list | tuple):  # an expanding IN
                sql = sql.replace(f"__[POSTCOMPILE_{arg}]", ", ".join("?" * len(value)) or EMPTY_IN)
                values += value
            else:
                values.append(BIND[kind](value) if kind and value is not None else value)
        for raw in self.conn.execute(sql, values):
            row = list(raw)
            for i, convert in converts:
                row[i] = convert(row[i])
            yield row_type._make(row)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SqliteReads:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sqlite_path(url: str) -> Path | None:
    """The file of a plain `sqlite:///PATH` URL; None for anything else (other databases, options, escapes)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    rest = url[len(prefix) :]
    if not rest or rest == ":memory:" or any(c in rest for c in "?%#"):
        return None
    return Path(rest)


def open_reads(url: str) -> SqliteReads | None:
    """A reader of the embedded archive at `url` when it exists at the newest migration, else None."""
    path = sqlite_path(url)
    if path is None or not path.is_file():
        return None
    conn = None
    try:
        conn = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA query_only=1")
        conn.execute("BEGIN")  # deferred: the snapshot starts at the first read
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if revision is None or revision[0] != head_revision():
            conn.close()
            return None
    except sqlite3.Error:
        if conn is not None:
            conn.close()
        return None
    return SqliteReads(conn)
