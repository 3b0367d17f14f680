"""`xxgk reparse`: today's parser over the archived captures again, without the network.

Every document version is parsed again from its own capture (scraper/process.py, the crawl's path).
A different result is recorded as a re-parse of that same version (previous parse kept, parser
version noted), never as a new version. Article pages that failed to parse when crawled, at URLs no
document has, are given to the crawl's own `process_capture` in fetch order: a better parser can
turn them into documents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from loguru import logger
from sqlalchemy import select
from sqlalchemy.engine import Engine

from scraper import process
from scraper.parse import ParseError
from scraper.process import process_capture, reparse_version
from storage.archive import ArchiveError, BlobStore
from storage.db import session
from storage.documents import NEW, REPARSED
from storage.models import Capture, Document, DocumentUrl, DocumentVersion, Source

BATCH = 200
Progress = Callable[[int], None]


@dataclass
class ReparseSummary:
    parser_version: str = ""  # the parser that read the pages (the one process.py stamps)
    versions: int = 0  # versions parsed again
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
    engine: Engine, store: BlobStore, sources: list[int], progress: Progress | None = None
) -> ReparseSummary:
    """Re-parse every version of `sources`, then retry their failed pages; one transaction a batch."""
    sm = ReparseSummary(parser_version=process.PARSER_VERSION)
    step = progress or (lambda n: None)
    _in_batches(
        engine, _version_ids(engine, sources), DocumentVersion, lambda s, ver: _one_version(s, store, ver, sm), step
    )
    _in_batches(
        engine, _failed_capture_ids(engine, sources), Capture, lambda s, cap: _one_failed_page(s, store, cap, sm), step
    )
    logger.info(
        "reparse with parser {}: {} versions, {} re-parsed, {} unchanged, {} errors, {} recovered",
        sm.parser_version,
        sm.versions,
        sm.reparsed,
        sm.unchanged,
        sm.errors,
        sm.recovered,
    )
    return sm


def _in_batches(engine: Engine, ids: list[int], model, work, step: Progress) -> None:
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        with session(engine) as s:
            for row_id in chunk:
                work(s, s.get(model, row_id))
            s.commit()
        step(len(chunk))


def _one_version(s, store: BlobStore, ver: DocumentVersion, sm: ReparseSummary) -> None:
    sm.versions += 1
    try:
        with s.begin_nested():
            outcome = reparse_version(s, store, ver)
    except (ParseError, ArchiveError) as exc:
        doc = s.get(Document, ver.document_id)
        sm.errors += 1
        sm.problems.append(f"{doc.index_no or doc.url} version {ver.version}: {exc}")
        logger.error("cannot re-parse {} version {}: {}", doc.index_no or doc.url, ver.version, exc)
        return
    if outcome != REPARSED:
        sm.unchanged += 1
        return
    sm.reparsed += 1
    prev = s.scalars(
        select(DocumentVersion.content_hash).where(
            DocumentVersion.document_id == ver.document_id, DocumentVersion.version == ver.version - 1
        )
    ).first()
    sm.same_as_previous += prev == ver.content_hash


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
