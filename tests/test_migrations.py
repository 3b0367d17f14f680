"""Migrations carry existing data forward (an archive made by an older version keeps working)."""

from helpers import schema_at
from sqlalchemy import text

from storage.db import open_database


def test_upgrade_from_the_first_schema_keeps_rows(db_url):
    url = db_url
    with schema_at(url, "0001") as conn:
        conn.execute(text("INSERT INTO sources (name, health, created_at) VALUES ('a', 'OK', '2025-01-01')"))
        conn.execute(
            text(
                "INSERT INTO crawl_runs (source_id, trigger, mode, status, started_at, listed, fetched,"
                " new, changed, unchanged, withdrawn, errors, requests)"
                " VALUES (1, 'manual', 'full', 'ok', '2025-01-01', 5, 5, 5, 0, 0, 0, 0, 6)"
            )
        )
    engine = open_database(url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT listed, blocked, scheduled_for FROM crawl_runs")).one()
    assert tuple(row) == (5, 0, None)


def test_the_quick_revision_check_knows_alembics_head(tmp_path):
    """`open_database` skips alembic when the database is at head_revision(): it must be alembic's head."""
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config, current_revision, head_revision, make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/a.db")
    assert head_revision() == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert current_revision(engine) is None
    open_database(f"sqlite:///{tmp_path}/a.db")
    assert current_revision(engine) == head_revision()


def _everything(path) -> dict:
    """A SQLite database's schema (sqlite_master), every table's rows (FTS5 shadow tables too), user_version."""
    import sqlite3

    con = sqlite3.connect(path)
    try:
        master = sorted(con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(), key=repr)
        rows = {
            name: sorted(con.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for kind, name, _, sql in master
            if kind == "table" and not (sql or "").startswith("CREATE VIRTUAL")
        }
        return {"master": master, "rows": rows, "user_version": con.execute("PRAGMA user_version").fetchall()}
    finally:
        con.close()


def test_a_new_sqlite_database_is_made_without_alembic_as_the_migrations_make_it(tmp_path):
    """storage/sqlite_head_schema.py is current (else: `python -m storage.sqlite_head`), and a database made
    from it is the one alembic makes: same tables, indexes, FTS5 tables, rows, alembic revision."""
    import subprocess
    import sys

    from storage import sqlite_head
    from storage.schema_head import head_revision
    from storage.sqlite_head_schema import REVISION, SCHEMA

    revision, made = sqlite_head.made_by_alembic(tmp_path / "alembic.db")
    assert (REVISION, list(SCHEMA)) == (revision, made), "stale: run `python -m storage.sqlite_head`"
    assert revision == head_revision()
    fast = tmp_path / "fast.db"
    code = (
        "import sys; from storage.db import open_database; "
        f"open_database({f'sqlite:///{fast}'!r}).dispose(); print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"  # made without importing alembic
    assert _everything(fast) == _everything(tmp_path / "alembic.db")


def test_a_sqlite_database_with_tables_but_no_revision_is_left_to_alembic(tmp_path):
    """Only an empty database is made from the schema: one with tables (made before alembic, or by hand)
    goes through the migrations (which refuse or adopt it as they always did)."""
    from storage import sqlite_head
    from storage.db import make_engine
    from storage.schema_head import head_revision

    engine = make_engine(f"sqlite:///{tmp_path}/a.db")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE mine (x INTEGER)")
        assert not sqlite_head.create(conn, head_revision())
        assert not sqlite_head.create(conn, "0001_not_the_head")
    engine.dispose()
