"""Shared fixtures: a started portal simulator, the real CLI on a config pointing at it, the databases
(SQLite and PostgreSQL: `--db sqlite|postgresql|both` or env XXGK_TEST_DB, default both) and a local
S3-compatible server (moto) for the archive."""

from __future__ import annotations

import os
import uuid

import helpers
import pytest
import sqlalchemy
from helpers import Cli, write_config

from simulator import PortalSimulator

DB_KINDS = ("sqlite", "postgresql")


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=(*DB_KINDS, "both"),
        default=os.environ.get("XXGK_TEST_DB") or "both",
        help="database(s) the tests touching one run on (env XXGK_TEST_DB; default both)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: crawls a simulator, starts processes or needs a server (not in `make check`)"
    )
    config.addinivalue_line(
        "markers",
        "one_db: the database is incidental here (fetch-level fault matrices): run on the first chosen database only",
    )


def pytest_generate_tests(metafunc):
    """Every test that uses `db_url` (directly, through `cli`, or by usefixtures) runs per database."""
    if "db_url" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--db")
        kinds = DB_KINDS if chosen == "both" else (chosen,)
        if metafunc.definition.get_closest_marker("one_db"):
            kinds = kinds[:1]
        metafunc.parametrize("db_url", kinds, indirect=True)


@pytest.fixture
def db_url(request, tmp_path):
    """The test's database; `helpers.write_config` writes it into the config it makes."""
    if request.param == "sqlite":
        url, helpers.DATABASE_URL = f"sqlite:///{tmp_path}/data/xxgk.db", None  # the embedded default
    else:
        url = helpers.DATABASE_URL = request.getfixturevalue("pg_url")
    yield url
    helpers.DATABASE_URL = None


@pytest.fixture
def portal():
    with PortalSimulator(seed=7, docs=120) as sim:
        yield sim


@pytest.fixture
def cli(tmp_path, portal, db_url):
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


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3-compatible server over real HTTP on 127.0.0.1 (endpoint URL)."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request in failure output
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_url(s3_server, monkeypatch):
    """A fresh bucket on the local S3 server, the AWS environment pointing at it: `s3://bucket/prefix`."""
    import boto3

    for key, value in {
        "AWS_ENDPOINT_URL": s3_server,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    bucket = f"xxgk-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/archive"


E2E_FIXTURES = {"portal", "cli", "crawled", "s3_server", "s3_url", "pg_url", "browser"}  # browser: Chromium
E2E_NAMES = ("PortalSimulator", "subprocess", "crawled_cli")  # a module that starts simulators or processes


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups (`--dist loadgroup` of `make test`)
def pytest_collection_modifyitems(items):
    """Tests that crawl a simulator, start processes or need a server are end-to-end (`-m "not e2e"`
    is the quick tier of `make check`): known by their fixtures or their module's imports, or marked by hand."""
    for item in items:
        module = getattr(item, "module", None)
        if (
            E2E_FIXTURES & set(getattr(item, "fixturenames", ()))
            or any(hasattr(module, name) for name in E2E_NAMES)
            or "postgresql" in item.name
        ):  # a PostgreSQL run of a test, or a PostgreSQL-only test
            item.add_marker(pytest.mark.e2e)
        group_module_fixtures(item)
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)  # quick ones last: they even out the end


def group_module_fixtures(item) -> None:
    """Tests are spread over the workers one by one, except a module with a module-scoped fixture (a crawled
    archive, a browser): its tests are one group, kept on one worker, so the fixture is built once."""
    defs = getattr(item, "_fixtureinfo", None)
    if defs and any(d[-1].scope == "module" for d in defs.name2fixturedefs.values()):
        item.add_marker(pytest.mark.xdist_group(item.module.__name__))
