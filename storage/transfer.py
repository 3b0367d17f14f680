"""Move an archive to bigger parts: every row into another database (SQLite -> PostgreSQL, or back),
every blob into another store (folder -> S3, or back). Read-only on the source side.

- The target database is migrated to the same schema first and must hold no archive yet: rows keep
  their ids (so the blobs, versions and URLs still line up), tables go in foreign-key order, a batch
  at a time, then PostgreSQL's id sequences are moved past the copied ids and the search index is
  rebuilt for the target's dialect. Each table's row count is compared at the end.
- Blobs are read back through the source store (so each is checked against its sha256) and put
  through the target's write-once path: a blob already there is left alone, never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from loguru import logger
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from storage import (
    models,  # also registers the tables on SQLModel.metadata
    search,
)
from storage.archive import ArchiveError, BlobStore
from storage.db import read_session

BATCH = 2000
# Not copied: live state of running processes (leases, heartbeats, pending triggers) and the search
# text, which is rebuilt for the target's dialect.
SKIP = {"leases", "daemons", "trigger_requests", "search_text", "search_files"}
Step = Callable[[int], None]


class TransferError(Exception):
    """The copy cannot start or did not come out whole; the message says which and why."""


@dataclass
class TransferReport:
    tables: dict[str, int] = field(default_factory=dict)  # rows copied per table
    searchable: int = 0  # documents in the target's search index
    blobs_copied: int = 0
    blobs_present: int = 0  # already in the target store: left alone
    bytes_copied: int = 0
    problems: list[str] = field(default_factory=list)  # blobs the source could not give back

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def tables() -> list[Table]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in SKIP]


def count_rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables()}


def copy_database(source: Engine, target: Engine, step: Step | None = None) -> TransferReport:
    """Copy every archive row from `source` to the migrated, empty `target`."""
    step = step or (lambda n: None)
    held = {name: n for name, n in count_rows(target).items() if n}
    if held:
        raise TransferError(
            "the target database already holds an archive ("
            + ", ".join(f"{n} {name}" for name, n in held.items())
            + "); copy into a new, empty database"
        )
    report = TransferReport()
    snapshot = {"isolation_level": "REPEATABLE READ"} if source.dialect.name == "postgresql" else {}
    with (
        source.connect().execution_options(xxgk_readonly=True, stream_results=True, yield_per=BATCH, **snapshot) as src,
        target.begin() as dst,
    ):
        for table in tables():
            copied = 0
            for chunk in src.execute(select(table).order_by(*table.primary_key.columns)).partitions(BATCH):
                rows = [dict(r._mapping) for r in chunk]
                dst.execute(insert(table), rows)
                copied += len(rows)
                step(len(rows))
            report.tables[table.name] = copied
        _advance_sequences(dst)
        report.searchable = search.rebuild(dst)
        search.rebuild_files(dst)
    counts = count_rows(target)
    wrong = {n: (report.tables[n], counts[n]) for n in report.tables if counts[n] != report.tables[n]}
    if wrong:
        raise TransferError(f"row counts differ after the copy (copied, now in target): {wrong}")
    logger.info(
        "copied {} rows in {} tables; {} documents searchable",
        sum(report.tables.values()),
        len(report.tables),
        report.searchable,
    )
    return report


def _advance_sequences(conn) -> None:
    """PostgreSQL: the next generated id of each table comes after the copied ones."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not pk[0].autoincrement or pk[0].type.python_type is not int:
            continue
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": pk[0].name}).scalar()
        if seq:
            conn.execute(
                text(f"SELECT setval(:s, COALESCE((SELECT max({pk[0].name}) FROM {table.name}), 0) + 1, false)"),
                {"s": seq},
            )


def blob_names(engine: Engine) -> tuple[int, Iterator[str]]:
    """How many blobs the database knows, and their names in a stream (the archive's contents)."""
    with read_session(engine) as s:
        n = s.execute(select(func.count()).select_from(models.Blob)).scalar_one()

    def names() -> Iterator[str]:
        with read_session(engine) as s:
            yield from s.execute(
                select(models.Blob.sha256).order_by(models.Blob.sha256).execution_options(yield_per=5000)
            ).scalars()

    return n, names()


def copy_archive(
    source: BlobStore, target: BlobStore, hashes: Iterable[str], step: Step | None = None, threads: int = 8
) -> TransferReport:
    """Put every blob named in `hashes` into `target`, verified on the way. A blob the source cannot
    give back whole is named in `problems` and the copy goes on."""
    step = step or (lambda n: None)
    report = TransferReport()

    def one(sha256: str) -> tuple[str, int]:
        if target.exists(sha256):
            return "present", 0
        try:
            put = target.put(source.get(sha256))  # get: checked against its name
        except ArchiveError as exc:
            return f"problem: {exc}", 0
        return ("present" if put.existed else "copied"), put.stored_size

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for window in _windows(hashes, threads * 64):  # bounded memory at any archive size
            for outcome, size in pool.map(one, window):
                if outcome == "copied":
                    report.blobs_copied += 1
                    report.bytes_copied += size
                elif outcome == "present":
                    report.blobs_present += 1
                else:
                    report.problems.append(outcome.removeprefix("problem: "))
                step(1)
    logger.info(
        "archive copy: {} blobs copied ({} bytes stored), {} already there, {} problems",
        report.blobs_copied,
        report.bytes_copied,
        report.blobs_present,
        len(report.problems),
    )
    return report


def _windows(items: Iterable[str], size: int) -> Iterator[list[str]]:
    window: list[str] = []
    for item in items:
        window.append(item)
        if len(window) == size:
            yield window
            window = []
    if window:
        yield window
