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
