"""The group writer on a real database: one failing unit never fails its batch-mates, nothing is
written twice, and a batch without failures runs without savepoints."""

import asyncio
import threading

import pytest
from sqlalchemy import event
from sqlmodel import select

from storage.db import open_database, session
from storage.group_commit import GroupWriter
from storage.models import Source


def add(name):
    def unit(s):
        s.add(Source(name=name))
        s.flush()
        return name

    return unit


def names(engine):
    with session(engine) as s:
        return sorted(s.exec(select(Source.name)))


def run(engine, units):
    """`units` submitted at once (one batch, as the writer thread finds them queued); their results and
    the statements that named a savepoint."""
    seen: list[str] = []

    def watch(conn, cursor, statement, *_a):
        if "SAVEPOINT" in statement.upper():
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", watch)

    async def go():
        writer = GroupWriter(engine)
        gate = threading.Event()
        first = asyncio.ensure_future(writer(lambda s: gate.wait(10)))  # holds the writer thread
        await asyncio.sleep(0.1)
        futures = [asyncio.ensure_future(writer(u)) for u in units]
        await asyncio.sleep(0.1)  # all queued: they go in as one batch
        gate.set()
        await first
        results = await asyncio.gather(*futures, return_exceptions=True)
        await writer.close()
        assert writer.batches == 2
        return writer, results

    try:
        writer, results = asyncio.run(go())
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    return writer, results, seen


def test_a_clean_batch_takes_no_savepoint(db_url):
    engine = open_database(db_url)
    writer, results, seen = run(engine, [add(f"s{i}") for i in range(10)])
    assert results == [f"s{i}" for i in range(10)]
    assert seen == [] and writer.reruns == 0
    assert names(engine) == sorted(f"s{i}" for i in range(10))


@pytest.mark.parametrize("bad_at", [0, 4, 9])
def test_a_failing_unit_fails_alone_and_nothing_is_written_twice(db_url, bad_at):
    engine = open_database(db_url)
    units = [add(f"s{i}") for i in range(10)]
    units[bad_at] = add("s0" if bad_at else "s1")  # a duplicate name: an integrity error in the batch
    writer, results, _seen = run(engine, units)
    failed = [i for i, r in enumerate(results) if isinstance(r, Exception)]
    assert len(failed) == 1, results
    expected = sorted({f"s{i}" for i in range(10)} - {f"s{bad_at}"})
    assert names(engine) == expected  # every other unit committed, once
    assert writer.reruns == 1  # the batch ran again, a savepoint per unit


def test_a_unit_whose_rows_fail_only_at_flush_fails_alone(db_url):
    """Its rows are written after it returns (savepoint release, or commit): the error is still its
    own, and the results of the units after it stay theirs."""
    engine = open_database(db_url)

    def pending_duplicate(s):
        s.add(Source(name="s1"))  # not flushed by the unit itself

    units = [add("s0"), add("s1"), pending_duplicate, add("s3"), add("s4")]
    writer, results, _seen = run(engine, units)
    assert results[:2] == ["s0", "s1"] and results[3:] == ["s3", "s4"], results
    assert isinstance(results[2], Exception)
    assert names(engine) == ["s0", "s1", "s3", "s4"]


def test_a_batch_is_made_durable_up_to_the_last_write_its_units_staged(db_url):
    """before_commit(n) gets the highest staged() any unit of the batch saw when it came (its blobs
    are among those), before the transaction and again before its commit."""
    engine = open_database(db_url)
    staged = iter(range(1, 100))
    got: list[int] = []

    async def go():
        writer = GroupWriter(engine, before_commit=got.append, staged=lambda: next(staged))
        gate = threading.Event()
        first = asyncio.ensure_future(writer(lambda s: gate.wait(10)))  # staged() 1: a batch alone
        await asyncio.sleep(0.1)
        futures = [asyncio.ensure_future(writer(add(f"s{i}"))) for i in range(5)]  # 2..6: one batch
        await asyncio.sleep(0.1)
        gate.set()
        await asyncio.gather(first, *futures)
        await writer.close()

    asyncio.run(go())
    assert got == [1, 1, 6, 6] and names(engine) == [f"s{i}" for i in range(5)]
