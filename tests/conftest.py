"""Shared fixtures: a started portal simulator and the real CLI on a config pointing at it."""
from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy

from helpers import Cli, write_config
from simulator import PortalSimulator


@pytest.fixture
def portal():
    with PortalSimulator(seed=7, docs=120) as sim:
        yield sim


@pytest.fixture
def cli(tmp_path, portal):
    return Cli(write_config(tmp_path, portal))


PG_ADMIN = os.environ.get("XXGK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_url():
    """A fresh, empty schema in the test PostgreSQL database, dropped afterwards."""
    yield from fresh_pg_schema()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def crawled(request, tmp_path_factory):
    """A simulator archive crawled on day 1 and day 2, on each database; shared: tests only read it."""
    from archive_helpers import crawled_cli

    url = None
    if request.param == "postgresql":
        schema = fresh_pg_schema()
        url = next(schema)
        request.addfinalizer(lambda: next(schema, None))
    with PortalSimulator(seed=7, docs=120) as sim:
        yield crawled_cli(tmp_path_factory.mktemp(f"crawled-{request.param}"), sim, database_url=url)


def fresh_pg_schema():
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_ADMIN else "?"
    yield f"{PG_ADMIN}{sep}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()
