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
    assert acquire(engine, 1, "p1", 30) is None          # re-entrant for the holder
    assert holder_of(engine, 1)[0] == "p1" and live_holders(engine) == {"p1"}
    release(engine, 1, "p2")                               # not the holder: nothing happens
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
    assert not renew(engine, 1, "dead", 30)                # the old holder lost it
