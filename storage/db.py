"""Engine and sessions: SQLite by default (WAL, foreign keys, busy timeout), PostgreSQL for scale.

The schema is owned by alembic: `open_database` upgrades to head before anything else runs (alembic is
imported only when the database's revision, read in one query, is not the newest migration's).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url

from storage import retry
from storage.retry import DEFAULT_PATIENCE, set_patience
from storage.schema_head import MIGRATIONS, head_revision

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlmodel import Session

BUSY_MS = 10000  # SQLite: a writer waits this long for the lock before "database is locked"
CONNECT_TIMEOUT = 10  # PostgreSQL: seconds to reach the server


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message names the URL and the cause."""


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_MS}")  # then storage/retry.py tries again, up to its patience
    cur.close()
    dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _sqlite_begin)


def _sqlite_begin(conn) -> None:
    # Writers take the lock up front (no read-then-upgrade deadlocks); readers stay deferred.
    readonly = conn.get_execution_options().get("xxgk_readonly")
    conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_MS / 1000, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # pre-ping: a connection the server dropped (restart, failover) is replaced before use
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT})


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


_MIGRATE_LOCK = 0x78786B6D  # pg advisory lock key: one migrating process at a time


def current_revision(engine: Engine) -> str | None:
    """The database's alembic revision, or None for a new (or pre-alembic) database: one query."""
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:  # noqa: BLE001 - no such table yet: the migration decides what to do
            return None


def migrate(engine: Engine) -> None:
    """Upgrade to head, unless the database is there already (then alembic is not even imported). A new,
    empty SQLite database is made at head from storage/sqlite_head.py's schema (what the migrations make),
    without alembic: ~0.2 s less for every first crawl."""
    current = current_revision(engine)
    if current == head_revision():
        return
    if current is None and engine.dialect.name == "sqlite":
        from storage import sqlite_head

        with engine.begin() as conn:  # BEGIN IMMEDIATE: one process makes it; another then finds it made
            if sqlite_head.create(conn, head_revision()):
                return
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # processes starting together on a fresh database
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATE_LOCK})")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_database(url: str, outage_seconds: float = DEFAULT_PATIENCE) -> Engine:
    """Open (creating if needed) and migrate the database at `url`; its writers ride out transient
    errors for up to `outage_seconds` (storage/retry.py)."""
    try:
        engine = make_engine(url)
        set_patience(engine, outage_seconds)
        retry.call(engine, lambda: migrate(engine))  # a database restarting, or SQLite locked meanwhile
    except Exception as exc:  # noqa: BLE001 - re-raised with the URL named
        safe = make_url(url).render_as_string(hide_password=True) if "://" in url else url
        raise DatabaseError(f"cannot open database {safe}: {exc}") from exc
    return engine


def _sqlite_readonly_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA query_only=1")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def open_readonly(url: str) -> Engine:
    """The database at `url` for reading only, never migrated: SQLite opened `mode=ro`, PostgreSQL
    sessions with default_transaction_read_only. Fails, naming the URL, when it cannot be read."""
    parsed = make_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            path = Path(parsed.database or "")
            if not path.is_file():
                raise FileNotFoundError(f"no database file {path}")
            engine = create_engine(
                f"sqlite:///file:{path.resolve()}?mode=ro&uri=true", connect_args={"check_same_thread": False}
            )
            event.listen(engine, "connect", _sqlite_readonly_pragmas)
        else:
            options = (parsed.query.get("options") or "") + " -c default_transaction_read_only=on"
            engine = create_engine(parsed.update_query_dict({"options": options.strip()}), pool_pre_ping=True)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1 FROM documents LIMIT 1")
    except Exception as exc:  # noqa: BLE001 - re-raised with the URL named
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseError(
            f"cannot open database {parsed.render_as_string(hide_password=True)} read-only: {cause}"
        ) from exc
    return engine


def session(engine: Engine) -> Session:
    """A read-write session (on SQLite its transactions take the write lock at BEGIN)."""
    from sqlmodel import Session  # the ORM loads with the first session: Core readers never pay for it

    return Session(engine, expire_on_commit=False)


def read_session(engine: Engine) -> Session:
    """A read-only session: never blocks writers on SQLite (WAL snapshot)."""
    from sqlmodel import Session

    return Session(engine.execution_options(xxgk_readonly=True), expire_on_commit=False)


def read_connection(engine: Engine) -> Connection:
    """A read-only Core connection (storage/queries.py reads through it, no ORM loaded): one transaction,
    begun at the first query, that never blocks writers on SQLite (WAL snapshot). Use it in `with`."""
    return engine.execution_options(xxgk_readonly=True).connect()
