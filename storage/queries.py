"""Reading the archive back: document listings and the stable document JSON of the contract.

On SQLAlchemy Core over storage/tables.py (no ORM, sqlmodel or pydantic to import: `xxgk show` and `ls`
start fast). Every function takes a read Session (ORM callers) or a Connection, and returns rows:
read-only objects with the columns as attributes (`doc.id`, `ver.record`), as the ORM objects had them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import combinations
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter

from storage import doc_reads
from storage.doc_reads import FILTERS, DocFilter, variant
from storage.tables import (
    attachments,
    blobs,
    captures,
    crawl_runs,
    document_urls,
    document_versions,
    documents,
    sources,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Result
    from sqlalchemy.orm import Session

    Reader = Session | Connection

Row = Any  # a result row: the table's columns as attributes (sqlalchemy Row), or an ORM object of the table


def run(s: Reader, statement, params: dict | None = None) -> Result:
    """A Core statement in `s`'s transaction (an ORM session's pending changes flushed first, as its
    own queries would)."""
    if isinstance(s, Connection):
        return s.execute(statement, params)
    if s.autoflush:
        s.flush()
    return s.connection().execute(statement, params)


# The named queries of storage/doc_reads.py (what `show` reads). storage/sqlite_sql.py holds them compiled
# for SQLite (`python -m storage.sqlite_gen`; tests/test_sqlite_reads.py fails when it is stale).
READS = {
    "document_by_key": select(documents).where(documents.c.doc_key == bindparam("doc_key")).limit(1),
    "document_by_id": select(documents).where(documents.c.id == bindparam("id")).limit(1),
    "document_id_by_url": select(document_urls.c.document_id).where(document_urls.c.url == bindparam("url")).limit(1),
    "version": select(document_versions)
    .where(
        document_versions.c.document_id == bindparam("document_id"),
        document_versions.c.version == bindparam("version"),
    )
    .limit(1),
    "document_urls": select(document_urls.c.url)
    .where(document_urls.c.document_id == bindparam("document_id"))
    .order_by(document_urls.c.first_seen, document_urls.c.id),
    "version_attachments": select(attachments)
    .where(attachments.c.version_id == bindparam("version_id"))
    .order_by(attachments.c.id),
    "source_name": select(sources.c.name).where(sources.c.id == bindparam("id")),
    "capture": select(captures).where(captures.c.id == bindparam("id")),
    "source_names": select(sources.c.id, sources.c.name),
    # documents_json: a batch of documents' current versions, URLs and attachments
    "current_versions": select(document_versions)
    .join(
        documents,
        and_(documents.c.id == document_versions.c.document_id, documents.c.version == document_versions.c.version),
    )
    .where(document_versions.c.document_id.in_(bindparam("ids", expanding=True))),
    "urls_of_documents": select(document_urls.c.document_id, document_urls.c.url)
    .where(document_urls.c.document_id.in_(bindparam("ids", expanding=True)))
    .order_by(document_urls.c.first_seen, document_urls.c.id),
    "attachments_of_versions": select(attachments)
    .where(attachments.c.version_id.in_(bindparam("ids", expanding=True)))
    .order_by(attachments.c.id),
}


def _listing_variants() -> Iterator[tuple[str, Any]]:
    """`ls`'s listing and count for every set of filters (doc_reads.variant names them), each filter a
    bindparam named after its DocFilter field."""
    for n in range(len(FILTERS) + 1):
        for on in combinations(FILTERS, n):
            f = DocFilter(**{k: bindparam(k) for k in on})
            params = dict.fromkeys(on)
            yield (
                variant("count_documents", params),
                filter_documents(select(func.count(documents.c.id).label("count")), f),
            )
            yield variant("list_documents", params), listing(f)
            yield variant("list_documents", params | {"limit": None}), listing(f, bindparam("limit"))


class CoreReads(doc_reads.Reads):
    """storage/doc_reads.py's queries through SQLAlchemy Core, in a Session's or Connection's transaction."""

    def __init__(self, s: Reader) -> None:
        self.s = s

    def stream(self, name: str, **params: Any) -> Iterator[Row]:
        return iter(run(self.s, READS[name], params))

    def one(self, name: str, **params: Any) -> Row:
        return run(self.s, READS[name], params).one()


def reads(s: Reader | doc_reads.Reads) -> doc_reads.Reads:
    return s if isinstance(s, doc_reads.Reads) else CoreReads(s)


def find_document(s: Reader, ident: str) -> Row | None:
    """By 索引号 (as printed: full-width and spaces tolerated), by doc key, or by any of its URLs."""
    return doc_reads.find_document(reads(s), ident)


def get_version(s: Reader, doc: Row, version: int | None = None) -> Row | None:
    return doc_reads.get_version(reads(s), doc, version)


def document_json(
    s: Reader,
    doc: Row,
    version: int | None = None,
    body: bool = True,
    sources: dict[int, str] | None = None,
) -> dict:
    """The contract's document object (keys stable, null when absent, ISO dates)."""
    return doc_reads.document_json(reads(s), doc, version, body, sources)


def source_name(s: Reader, source_id: int) -> str:
    return doc_reads.source_name(reads(s), source_id)


def version_attachments(s: Reader, ver: Row) -> list[Row]:
    """A version's attachments in the order the page lists them (as `show` numbers them, from 1)."""
    return doc_reads.version_attachments(reads(s), ver)


def version_capture(s: Reader, ver: Row) -> Row | None:
    """The archived response a version was parsed from."""
    return doc_reads.version_capture(reads(s), ver)


def documents_json(s: Reader, docs: list[Row], body: bool = True, sources: dict[int, str] | None = None) -> list[dict]:
    """document_json of many documents (current versions) in four queries, in the order given."""
    return doc_reads.documents_json(reads(s), docs, body, sources)


def filter_documents(q, f: DocFilter = DocFilter()):
    """`q` (a select over storage.tables.documents) narrowed by `f` (values, or bindparams: READS)."""
    d = documents.c
    if _on(f.source):
        q = q.join(sources, sources.c.id == d.source_id).where(sources.c.name == f.source)
    if _on(f.since):
        q = q.where(d.publish_date >= f.since)
    if _on(f.until):
        q = q.where(d.publish_date <= f.until)
    if _on(f.publisher):
        q = q.where(d.publisher.contains(f.publisher))
    if _on(f.changed_since):  # bound as UTC by the columns' type
        at = f.changed_since
        q = q.where(or_(d.first_seen >= at, d.changed_at >= at, d.withdrawn_at >= at))
    return q


def _on(value: Any) -> bool:
    """A filter is set: a value (as doc_reads.filter_params tells), or a bindparam (READS)."""
    return isinstance(value, BindParameter) or bool(value)


def count_documents(s: Reader, f: DocFilter = DocFilter()) -> int:
    return doc_reads.count_documents(reads(s), f)


def listing(f: DocFilter = DocFilter(), limit: Any = None, after: Row | None = None) -> Select:
    """The documents `f` keeps, newest first by publish date (undated last); `after`: the listing continues
    after this document (keyset paging)."""
    d = documents.c
    q = filter_documents(select(documents), replace(f, source=None))
    if _on(f.source):  # `+ 0`: walk the publish_date index in order, not sort every document of the source
        q = q.where(d.source_id + 0 == select(sources.c.id).where(sources.c.name == f.source).scalar_subquery())
    if after is not None:
        undated_after = and_(d.publish_date.is_(None), d.id < after.id)
        q = q.where(
            undated_after
            if after.publish_date is None
            else or_(
                d.publish_date < after.publish_date,
                d.publish_date.is_(None),
                and_(d.publish_date == after.publish_date, d.id < after.id),
            )
        )
    q = q.order_by(d.publish_date.desc().nulls_last(), d.id.desc())
    return q.limit(limit) if limit is not None else q


def list_documents(
    s: Reader, f: DocFilter = DocFilter(), limit: int | None = None, after: Row | None = None
) -> Iterator[Row]:
    yield from run(s, listing(f, limit or None, after))


def running_sources(s: Reader) -> list[tuple[str, str]]:
    """(holder, source name) of every run in progress."""
    r = crawl_runs.c
    return [
        (holder, name)
        for holder, name in run(
            s,
            select(r.holder, sources.c.name)
            .join(sources, sources.c.id == r.source_id)
            .where(r.status == "running")
            .order_by(sources.c.name),
        )
    ]


def source_names(s: Reader) -> dict[int, str]:
    return doc_reads.source_names(reads(s))


def pick_attachment(atts: list[Row], which: str | None) -> Row:
    """Attachment number `which` (from 1) or the one named `which`; with None, the only one.
    LookupError names the choices."""
    if not atts:
        raise LookupError("this version has no attachments")
    choices = "; ".join(f"{i} {a.name}" for i, a in enumerate(atts, 1))
    if which is None:
        if len(atts) == 1:
            return atts[0]
        raise LookupError(f"{len(atts)} attachments, say which (number or name): {choices}")
    if which.isdigit() and 1 <= int(which) <= len(atts):
        return atts[int(which) - 1]
    named = [a for a in atts if a.name == which]
    if len(named) == 1:
        return named[0]
    raise LookupError(f"no attachment {which!r} (attachments: {choices})")


def blob_known(s: Reader, sha256: str) -> bool:
    """Whether the archive holds a body with this sha256."""
    return run(s, select(blobs.c.sha256).where(blobs.c.sha256 == sha256)).first() is not None


def attachment_named(s: Reader, sha256: str) -> Row | None:
    """An archived attachment with these bytes (for a download), or None."""
    return run(s, select(attachments).where(attachments.c.sha256 == sha256).limit(1)).first()


READS.update(_listing_variants())
