"""Leases on both databases: exclusive, renewable, lapsing."""

import time

import pytest

from storage.db import open_database, session
from storage.leases import acquire, holder_of, live_holders, release, renew
from storage.models import Source


@pytest.fixture
def engine(db_url):
    engine = open_database(db_url)
    with session(engine) as s:
        s.add(Source(name="a"))
        s.commit()
    return engine


def test_exclusive_then_released(engine):
    assert acquire(engine, 1, "p1", 30) is None
    assert acquire(engine, 1, "p2", 30) == "p1"
    assert acquire(engine, 1, "p1", 30) is None  # re-entrant for the holder
    assert holder_of(engine, 1)[0] == "p1" and live_holders(engine) == {"p1"}
    release(engine, 1, "p2")  # not the holder: nothing happens
    assert acquire(engine, 1, "p2", 30) == "p1"
    release(engine, 1, "p1")
    assert acquire(engine, 1, "p2", 30) is None


def test_a_lapsed_lease_can_be_taken_and_renewal_keeps_it(engine):
    assert acquire(engine, 1, "dead", 0.3) is None
    assert renew(engine, 1, "dead", 0.3)
    assert acquire(engine, 1, "p2", 30) == "dead"
    time.sleep(0.4)
    assert holder_of(engine, 1) is None
    assert acquire(engine, 1, "p2", 30) is None
    assert not renew(engine, 1, "dead", 30)  # the old holder lost it


def test_processes_starting_together_make_one_source_row(db_url):
    """Crawls, daemons and workers starting at once all make the source's row on first use: one row,
    one id for all (on PostgreSQL nothing serialises the first inserts; the race used to fail all but one)."""
    import threading

    from scraper.config import SourceConfig
    from scraper.crawl import ensure_source

    engine = open_database(db_url)
    for round_ in range(5):
        src = SourceConfig(name=f"s{round_}", start_urls=["http://127.0.0.1:9/col/col1/index.html"])
        barrier, ids = threading.Barrier(4), []

        def make(barrier=barrier, ids=ids, src=src):
            barrier.wait()
            ids.append(ensure_source(engine, src))

        threads = [threading.Thread(target=make) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(ids) == 4 and len(set(ids)) == 1, ids
