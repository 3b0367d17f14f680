"""Reading the archive back: document listings and the stable document JSON of the contract.

On SQLAlchemy Core over storage/tables.py (no ORM, sqlmodel or pydantic to import: `xxgk show` and `ls`
start fast). Every function takes a read Session (ORM callers) or a Connection, and returns rows:
read-only objects with the columns as attributes (`doc.id`, `ver.record`), as the ORM objects had them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from storage import contract
from storage.contract import doc_key, normalise_index_no
from storage.stamps import iso_ts
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


def run(s: Reader, statement) -> Result:
    """A Core statement in `s`'s transaction (an ORM session's pending changes flushed first, as its
    own queries would)."""
    if isinstance(s, Connection):
        return s.execute(statement)
    if s.autoflush:
        s.flush()
    return s.connection().execute(statement)


def _document(s: Reader, where) -> Row | None:
    return run(s, select(documents).where(where).limit(1)).first()


def find_document(s: Reader, ident: str) -> Row | None:
    """By 索引号 (as printed: full-width and spaces tolerated), by doc key, or by any of its URLs."""
    ident = ident.strip()
    doc = _document(s, documents.c.doc_key == ident)
    if doc is None:
        folded = normalise_index_no(ident) or ident
        doc = _document(s, documents.c.doc_key == folded)
    if doc is None:
        alias = run(s, select(document_urls.c.document_id).where(document_urls.c.url == ident).limit(1)).first()
        if alias is None:
            doc = _document(s, documents.c.doc_key == doc_key(None, ident))
        else:
            doc = _document(s, documents.c.id == alias.document_id)
    return doc


def get_version(s: Reader, doc: Row, version: int | None = None) -> Row | None:
    v = document_versions.c
    return run(
        s, select(document_versions).where(v.document_id == doc.id, v.version == (version or doc.version)).limit(1)
    ).first()


def document_json(
    s: Reader,
    doc: Row,
    version: int | None = None,
    body: bool = True,
    sources: dict[int, str] | None = None,
) -> dict:
    """The contract's document object (keys stable, null when absent, ISO dates)."""
    ver = get_version(s, doc, version)
    u = document_urls.c
    urls = run(s, select(u.url).where(u.document_id == doc.id).order_by(u.first_seen, u.id)).scalars().all()
    atts = version_attachments(s, ver) if ver else []
    source = (sources or {}).get(doc.source_id) or source_name(s, doc.source_id)
    return build_document_json(doc, ver, list(urls), list(atts), source, body)


def documents_json(s: Reader, docs: list[Row], body: bool = True, sources: dict[int, str] | None = None) -> list[dict]:
    """document_json of many documents (current versions) in four queries, in the order given."""
    ids = [d.id for d in docs]
    v, d, u, a = document_versions.c, documents.c, document_urls.c, attachments.c
    vers = {
        ver.document_id: ver
        for ver in run(
            s,
            select(document_versions)
            .join(documents, and_(d.id == v.document_id, d.version == v.version))
            .where(v.document_id.in_(ids)),
        )
    }
    urls: dict[int, list[str]] = defaultdict(list)
    for doc_id, url in run(s, select(u.document_id, u.url).where(u.document_id.in_(ids)).order_by(u.first_seen, u.id)):
        urls[doc_id].append(url)
    atts: dict[int, list[Row]] = defaultdict(list)
    for att in run(s, select(attachments).where(a.version_id.in_([ver.id for ver in vers.values()])).order_by(a.id)):
        atts[att.version_id].append(att)
    names = sources or source_names(s)
    return [
        build_document_json(
            doc,
            vers.get(doc.id),
            urls[doc.id],
            atts[vers[doc.id].id] if doc.id in vers else [],
            names[doc.source_id],
            body,
        )
        for doc in docs
    ]


def build_document_json(
    doc: Row,
    ver: Row | None,
    urls: list[str],
    atts: list[Row],
    source: str,
    body: bool = True,
) -> dict:
    """The document object from rows already loaded (exports load them a batch at a time)."""
    rec = ver.record if ver else {}
    out = {k: rec.get(k) for k in contract.CONTRACT_FIELDS}
    out["index_no"] = doc.index_no
    out["fields"] = rec.get("fields") or {}
    if body:
        out["body_text"] = ver.body_text if ver else None
    out.update(
        {
            "url": doc.url,
            "urls": urls,
            "source": source,
            "attachments": [{"name": a.name, "url": a.url, "sha256": a.sha256, "size": a.size} for a in atts],
            "version": ver.version if ver else doc.version,
            "versions": doc.version,
            "first_seen": iso_ts(doc.first_seen),
            "last_seen": iso_ts(doc.last_seen),
            "changed_at": iso_ts(doc.changed_at),
            "withdrawn_at": iso_ts(doc.withdrawn_at),
        }
    )
    return out


@dataclass(frozen=True)
class DocFilter:
    """Which documents: `since`/`until` compare ISO dates (YYYY-MM-DD) on publish_date, both inclusive;
    `changed_since` (aware datetime) keeps documents first seen, changed or withdrawn at or after it."""

    source: str | None = None
    since: str | None = None
    until: str | None = None
    publisher: str | None = None
    changed_since: datetime | None = None


def filter_documents(q, f: DocFilter = DocFilter()):
    """`q` (a select over storage.tables.documents) narrowed by `f`."""
    d = documents.c
    if f.source:
        q = q.join(sources, sources.c.id == d.source_id).where(sources.c.name == f.source)
    if f.since:
        q = q.where(d.publish_date >= f.since)
    if f.until:
        q = q.where(d.publish_date <= f.until)
    if f.publisher:
        q = q.where(d.publisher.contains(f.publisher))
    if f.changed_since:
        at = f.changed_since.astimezone(UTC)
        q = q.where(or_(d.first_seen >= at, d.changed_at >= at, d.withdrawn_at >= at))
    return q


def count_documents(s: Reader, f: DocFilter = DocFilter()) -> int:
    return int(run(s, filter_documents(select(func.count(documents.c.id)), f)).scalar_one())


def list_documents(
    s: Reader, f: DocFilter = DocFilter(), limit: int | None = None, after: Row | None = None
) -> Iterator[Row]:
    """Newest first by publish date (undated last); `after`: the listing continues after this document
    (keyset paging)."""
    d = documents.c
    q = filter_documents(select(documents), replace(f, source=None))
    if f.source:  # `+ 0`: walk the publish_date index in order, not sort every document of the source
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
    if limit:
        q = q.limit(limit)
    yield from run(s, q)


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
    return {sid: name for sid, name in run(s, select(sources.c.id, sources.c.name))}


def source_name(s: Reader, source_id: int) -> str:
    return run(s, select(sources.c.name).where(sources.c.id == source_id)).scalar_one()


def version_attachments(s: Reader, ver: Row) -> list[Row]:
    """A version's attachments in the order the page lists them (as `show` numbers them, from 1)."""
    a = attachments.c
    return list(run(s, select(attachments).where(a.version_id == ver.id).order_by(a.id)))


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


def version_capture(s: Reader, ver: Row) -> Row | None:
    """The archived response a version was parsed from."""
    return run(s, select(captures).where(captures.c.id == ver.capture_id)).first()
