"""`xxgk reparse`: today's parser over the archived captures again, without the network.

Every document version another parser read last is parsed again from its own capture
(scraper/process.py, the crawl's path); the versions today's parser already read are skipped unless
asked for (`every`). A batch's pages are parsed in worker processes while the batch before it is
recorded, one transaction a batch. A different result is recorded as a re-parse of that same
version (previous parse kept, parser version noted), never as a new version. Article pages that
failed to parse when crawled, at URLs no document has, are given to the crawl's own
`process_capture` in fetch order: a better parser can turn them into documents.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from loguru import logger
from sqlalchemy import select
from sqlalchemy.engine import Engine

from scraper import process
from scraper.children import die_with_parent
from scraper.parse import ParseError
from scraper.process import join_version, process_capture
from storage import reparse_writes
from storage.archive import ArchiveError, BlobStore, LocalBlobStore
from storage.db import read_session, session
from storage.documents import NEW, REPARSED, Parsed
from storage.models import Capture, Document, DocumentUrl, DocumentVersion, Source

BATCH = 200
MIN_POOL_PAGES = 400  # fewer pages than this are parsed here: forking the pool costs more than it saves
Progress = Callable[[int], None]
Job = tuple[bytes | str, str, str | None]  # (the page's bytes, or its sha256 to read from _ARCHIVE; url; content type)
ParsePages = Callable[[list[Job]], Iterable[Parsed | str]]  # pages -> parses, in order
Pending = tuple[list[int], Iterator[tuple[int, Parsed | str]], dict[int, str]]  # versions, parses, unreadable


@dataclass
class ReparseSummary:
    parser_version: str = ""  # the parser that read the pages (the one process.py stamps)
    versions: int = 0  # versions read (parsed again, or already read by this parser)
    already_current: int = 0  # ... this parser had already read: not parsed again, counted unchanged
    reparsed: int = 0  # ... whose parse changed: recorded as re-parses
    unchanged: int = 0
    same_as_previous: int = 0  # re-parsed versions now identical to the version before them
    recovered: int = 0  # failed pages that now make documents
    still_failing: int = 0  # failed pages that still do not parse
    errors: int = 0  # versions today's parser cannot read (their parse is kept)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def source_ids(engine: Engine, name: str | None) -> list[int]:
    """The sources to re-parse (all when `name` is None). Raises KeyError for an unknown name."""
    with session(engine) as s:
        q = select(Source.id, Source.name)
        rows = s.execute(q if name is None else q.where(Source.name == name)).all()
    if name is not None and not rows:
        raise KeyError(f"no source {name!r} in the archive")
    return [r.id for r in rows]


def _version_ids(engine: Engine, sources: list[int]) -> list[int]:
    with session(engine) as s:
        return list(
            s.scalars(
                select(DocumentVersion.id)
                .join(Document, Document.id == DocumentVersion.document_id)
                .where(Document.source_id.in_(sources))
                .order_by(DocumentVersion.id)
            )
        )


def _failed_capture_ids(engine: Engine, sources: list[int]) -> list[int]:
    with session(engine) as s:
        return list(
            s.scalars(
                select(Capture.id)
                .where(
                    Capture.source_id.in_(sources),
                    Capture.kind == "article",
                    Capture.status == 200,
                    Capture.error.like("parse error:%"),
                    Capture.url.not_in(select(DocumentUrl.url)),
                )
                .order_by(Capture.fetched_at, Capture.id)
            )
        )


def total(engine: Engine, sources: list[int]) -> int:
    return len(_version_ids(engine, sources)) + len(_failed_capture_ids(engine, sources))


def reparse_archive(
    engine: Engine,
    store: BlobStore,
    sources: list[int],
    progress: Progress | None = None,
    *,
    every: bool = False,
    workers: int | None = None,
) -> ReparseSummary:
    """Re-parse every version of `sources`, then retry their failed pages; one transaction a batch.

    A version today's parser already read is not read again (`every`: read it all the same); the
    pages are parsed in `workers` processes (default: one a core when there are many pages; 1: here)."""
    sm = ReparseSummary(parser_version=process.PARSER_VERSION)
    step = progress or (lambda n: None)
    ids = _version_ids(engine, sources)
    todo = ids if every else _outdated(engine, ids)
    sm.versions = sm.unchanged = sm.already_current = len(ids) - len(todo)
    step(sm.already_current)
    with _pages_parser(workers, len(todo), store) as (parse_pages, reads):
        pending = None  # the batch whose pages are being parsed while the one before it is recorded
        for start in range(0, len(todo) + BATCH, BATCH):
            chunk = todo[start : start + BATCH]
            ahead = _read_pages(engine, None if reads else store, chunk, parse_pages) if chunk else None
            if pending:
                _record_batch(engine, store, pending, sm)
                step(len(pending[0]))
            pending = ahead
    _in_batches(
        engine, _failed_capture_ids(engine, sources), Capture, lambda s, cap: _one_failed_page(s, store, cap, sm), step
    )
    logger.info(
        "reparse with parser {}: {} versions ({} already read by it), {} re-parsed, {} unchanged, {} errors, "
        "{} recovered",
        sm.parser_version,
        sm.versions,
        sm.already_current,
        sm.reparsed,
        sm.unchanged,
        sm.errors,
        sm.recovered,
    )
    return sm


def _outdated(engine: Engine, ids: list[int]) -> list[int]:
    """The versions of `ids` another parser read last (in id order)."""
    out: list[int] = []
    with session(engine) as s:
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            q = select(DocumentVersion.id).where(
                DocumentVersion.id.in_(chunk), DocumentVersion.parser_version != process.PARSER_VERSION
            )
            out.extend(s.scalars(q))
    return sorted(out)


_ARCHIVE: BlobStore | None = None  # where parse workers read the pages given by sha256 (set before they fork)


def _parse_job(job: Job) -> Parsed | str:
    """One page read (when given by its sha256) and parsed, in a worker process: the record, or why it
    cannot be read (the ArchiveError's or ParseError's message)."""
    body, url, ctype = job
    try:
        if isinstance(body, str):
            body = _ARCHIVE.get(body) if body and _ARCHIVE is not None else b""
        return process.parse_page(body, url, ctype)
    except (ArchiveError, ParseError) as exc:
        return str(exc)


@contextmanager
def _pages_parser(workers: int | None, pages: int, store: BlobStore | None = None) -> Iterator[tuple[ParsePages, bool]]:
    """(parse_pages(jobs) -> results in order, whether its workers read the pages from `store`): in a
    pool of forked processes (they inherit today's parser) when there are several cores and enough
    pages to pay for it. The workers read a local archive themselves (reading and checking a blob is
    a third of a page's cost): the pages are not read here, nor sent to them through a pipe."""
    global _ARCHIVE
    n = workers or os.cpu_count() or 1
    if n < 2 or (workers is None and pages < MIN_POOL_PAGES):
        yield (lambda jobs: [_parse_job(j) for j in jobs]), False
        return
    reads = isinstance(store, LocalBlobStore)  # a remote store's client is not shared across a fork
    _ARCHIVE = store if reads else None
    fork = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(n, mp_context=fork, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            chunks = lambda jobs: max(1, len(jobs) // (4 * n))  # noqa: E731
            yield (lambda jobs: pool.map(_parse_job, jobs, chunksize=chunks(jobs))), reads  # lazy: parsed ahead
    finally:
        _ARCHIVE = None


def _read_pages(engine: Engine, store: BlobStore | None, chunk: list[int], parse_pages: ParsePages) -> Pending:
    """The archived pages of the versions `chunk`, handed to the parser: (chunk, results, unreadable).
    `store` None: the parser reads them (the jobs name each page by its sha256)."""
    with read_session(engine) as s:
        rows = s.execute(
            select(DocumentVersion.id, Capture.sha256, Capture.url, Capture.headers)
            .join(Capture, Capture.id == DocumentVersion.capture_id)
            .where(DocumentVersion.id.in_(chunk))
        ).all()
    readable: list[int] = []
    jobs: list[Job] = []
    unreadable: dict[int, str] = {}
    for row in rows:
        try:
            if store is None:
                body: bytes | str = row.sha256 or ""  # the parser reads it
            else:
                body = store.get(row.sha256) if row.sha256 else b""
        except ArchiveError as exc:
            unreadable[row.id] = str(exc)
            continue
        ctype = next((v for k, v in row.headers or [] if k.lower() == "content-type"), None)
        readable.append(row.id)
        jobs.append((body, row.url, ctype))
    return chunk, zip(readable, parse_pages(jobs), strict=True), unreadable


def _record_batch(engine: Engine, store: BlobStore, pending: Pending, sm: ReparseSummary) -> None:
    """Record the parses of the versions `chunk`: their rows, captures, listings and files read in a
    few queries, joined as the crawl joined them, and written in a few statements, in one transaction."""
    chunk, results, unreadable = pending
    with session(engine) as s:
        conn = s.connection()
        batch = reparse_writes.read_batch(conn, chunk)
        sm.versions += len(batch.versions)
        outcomes, parses = [*((i, exc) for i, exc in unreadable.items()), *results], []
        for ver_id, page in sorted(outcomes, key=lambda o: o[0]):
            ver = batch.versions[ver_id]
            if isinstance(page, str):
                _cannot_read(sm, batch.documents[ver.document_id], ver, page)
                continue
            cap = batch.captures[ver.capture_id]  # a row with the capture's url, run_id and fetched_at
            listing = batch.listings.get(cap.url, (None, {}))
            parses.append((ver_id, join_version(s, page, cap, listing, batch.own_files(ver_id))))
        done = reparse_writes.record_reparses(conn, batch, parses)
        reparsed = [p for p, outcome in zip(parses, done, strict=True) if outcome == REPARSED]
        sm.reparsed += len(reparsed)
        sm.unchanged += len(parses) - len(reparsed)
        sm.same_as_previous += reparse_writes.same_as_previous(conn, batch, reparsed)
        s.commit()


def _cannot_read(sm: ReparseSummary, doc, ver, exc) -> None:
    sm.errors += 1
    sm.problems.append(f"{doc.index_no or doc.url} version {ver.version}: {exc}")
    logger.error("cannot re-parse {} version {}: {}", doc.index_no or doc.url, ver.version, exc)


def _in_batches(engine: Engine, ids: list[int], model, work, step: Progress) -> None:
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        with session(engine) as s:
            for row_id in chunk:
                work(s, s.get(model, row_id))
            s.commit()
        step(len(chunk))


def _one_failed_page(s, store: BlobStore, cap: Capture, sm: ReparseSummary) -> None:
    try:
        with s.begin_nested():
            outcome, doc, _ = process_capture(s, store, cap, cap.source_id)
            cap.error = None
            s.add(cap)
    except (ParseError, ArchiveError):
        sm.still_failing += 1
        return
    sm.recovered += outcome == NEW
    logger.info("{} now parses: document {} ({})", cap.url, doc.index_no or doc.url, outcome)
