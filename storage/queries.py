"""Reading the archive back: document listings and the stable document JSON of the contract."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from storage import contract
from storage.contract import normalise_index_no
from storage.documents import doc_key
from storage.models import Attachment, Blob, Capture, CrawlRun, Document, DocumentUrl, DocumentVersion, Source
from storage.stamps import iso_ts


def find_document(s: Session, ident: str) -> Document | None:
    """By 索引号 (as printed: full-width and spaces tolerated), by doc key, or by any of its URLs."""
    ident = ident.strip()
    doc = s.exec(select(Document).where(Document.doc_key == ident)).first()
    if doc is None:
        folded = normalise_index_no(ident) or ident
        doc = s.exec(select(Document).where(Document.doc_key == folded)).first()
    if doc is None:
        alias = s.exec(select(DocumentUrl).where(DocumentUrl.url == ident)).first()
        if alias is None:
            doc = s.exec(select(Document).where(Document.doc_key == doc_key(None, ident))).first()
        else:
            doc = s.get(Document, alias.document_id)
    return doc


def get_version(s: Session, doc: Document, version: int | None = None) -> DocumentVersion | None:
    return s.exec(
        select(DocumentVersion).where(
            DocumentVersion.document_id == doc.id, DocumentVersion.version == (version or doc.version)
        )
    ).first()


def document_json(
    s: Session,
    doc: Document,
    version: int | None = None,
    body: bool = True,
    sources: dict[int, str] | None = None,
) -> dict:
    """The contract's document object (keys stable, null when absent, ISO dates)."""
    ver = get_version(s, doc, version)
    urls = s.exec(
        select(DocumentUrl.url)
        .where(DocumentUrl.document_id == doc.id)
        .order_by(DocumentUrl.first_seen, DocumentUrl.id)
    ).all()
    atts = version_attachments(s, ver) if ver else []
    source = (sources or {}).get(doc.source_id) or s.get(Source, doc.source_id).name
    return build_document_json(doc, ver, list(urls), list(atts), source, body)


def documents_json(
    s: Session, docs: list[Document], body: bool = True, sources: dict[int, str] | None = None
) -> list[dict]:
    """document_json of many documents (current versions) in four queries, in the order given."""
    ids = [d.id for d in docs]
    vers = {
        v.document_id: v
        for v in s.exec(
            select(DocumentVersion)
            .join(
                Document, and_(Document.id == DocumentVersion.document_id, Document.version == DocumentVersion.version)
            )
            .where(DocumentVersion.document_id.in_(ids))
        )
    }
    urls: dict[int, list[str]] = defaultdict(list)
    for doc_id, url in s.exec(
        select(DocumentUrl.document_id, DocumentUrl.url)
        .where(DocumentUrl.document_id.in_(ids))
        .order_by(DocumentUrl.first_seen, DocumentUrl.id)
    ):
        urls[doc_id].append(url)
    atts: dict[int, list[Attachment]] = defaultdict(list)
    for att in s.exec(
        select(Attachment).where(Attachment.version_id.in_([v.id for v in vers.values()])).order_by(Attachment.id)
    ):
        atts[att.version_id].append(att)
    names = sources or source_names(s)
    return [
        build_document_json(
            d, vers.get(d.id), urls[d.id], atts[vers[d.id].id] if d.id in vers else [], names[d.source_id], body
        )
        for d in docs
    ]


def build_document_json(
    doc: Document,
    ver: DocumentVersion | None,
    urls: list[str],
    atts: list[Attachment],
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
    """`q` (a select over Document) narrowed by `f`."""
    if f.source:
        q = q.join(Source, Source.id == Document.source_id).where(Source.name == f.source)
    if f.since:
        q = q.where(Document.publish_date >= f.since)
    if f.until:
        q = q.where(Document.publish_date <= f.until)
    if f.publisher:
        q = q.where(Document.publisher.contains(f.publisher))
    if f.changed_since:
        at = f.changed_since.astimezone(UTC)
        q = q.where(or_(Document.first_seen >= at, Document.changed_at >= at, Document.withdrawn_at >= at))
    return q


def count_documents(s: Session, f: DocFilter = DocFilter()) -> int:
    return int(s.exec(filter_documents(select(func.count(Document.id)), f)).one())


def list_documents(
    s: Session, f: DocFilter = DocFilter(), limit: int | None = None, after: Document | None = None
) -> Iterator[Document]:
    """Newest first by publish date (undated last); `after`: the listing continues after this document
    (keyset paging)."""
    q = filter_documents(select(Document), replace(f, source=None))
    if f.source:  # `+ 0`: walk the publish_date index in order, not sort every document of the source
        q = q.where(Document.source_id + 0 == select(Source.id).where(Source.name == f.source).scalar_subquery())
    if after is not None:
        undated_after = and_(Document.publish_date.is_(None), Document.id < after.id)
        q = q.where(
            undated_after
            if after.publish_date is None
            else or_(
                Document.publish_date < after.publish_date,
                Document.publish_date.is_(None),
                and_(Document.publish_date == after.publish_date, Document.id < after.id),
            )
        )
    q = q.order_by(Document.publish_date.desc().nulls_last(), Document.id.desc())
    if limit:
        q = q.limit(limit)
    yield from s.exec(q)


def running_sources(s: Session) -> list[tuple[str, str]]:
    """(holder, source name) of every run in progress."""
    return list(
        s.exec(
            select(CrawlRun.holder, Source.name)
            .join(Source, Source.id == CrawlRun.source_id)
            .where(CrawlRun.status == "running")
            .order_by(Source.name)
        )
    )


def source_names(s: Session) -> dict[int, str]:
    return {sid: name for sid, name in s.exec(select(Source.id, Source.name))}


def version_attachments(s: Session, ver: DocumentVersion) -> list[Attachment]:
    """A version's attachments in the order the page lists them (as `show` numbers them, from 1)."""
    return list(s.exec(select(Attachment).where(Attachment.version_id == ver.id).order_by(Attachment.id)))


def pick_attachment(atts: list[Attachment], which: str | None) -> Attachment:
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


def blob_known(s: Session, sha256: str) -> bool:
    """Whether the archive holds a body with this sha256."""
    return s.get(Blob, sha256) is not None


def attachment_named(s: Session, sha256: str) -> Attachment | None:
    """An archived attachment with these bytes (for a download), or None."""
    return s.exec(select(Attachment).where(Attachment.sha256 == sha256)).first()


def version_capture(s: Session, ver: DocumentVersion) -> Capture | None:
    """The archived response a version was parsed from."""
    return s.get(Capture, ver.capture_id)
