"""Reading the archive back: document listings and the stable document JSON of the contract."""
from __future__ import annotations

from datetime import datetime
from typing import Iterator, Optional

from sqlmodel import Session, select

from storage.documents import doc_key
from storage.models import Attachment, Document, DocumentUrl, DocumentVersion, Source

CONTRACT_FIELDS = ("index_no", "title", "doc_no", "publisher", "publish_date", "written_date",
                   "disclosure", "validity", "topic", "genre")


def _iso(ts: Optional[datetime]) -> Optional[str]:
    return ts.isoformat(timespec="seconds").replace("+00:00", "Z") if ts else None


def find_document(s: Session, ident: str) -> Optional[Document]:
    """By 索引号 (as printed: full-width and spaces tolerated), by doc key, or by any of its URLs."""
    ident = ident.strip()
    doc = s.exec(select(Document).where(Document.doc_key == ident)).first()
    if doc is None:
        folded = "".join(chr(ord(c) - 0xFEE0) if "\uff01" <= c <= "\uff5e" else c
                         for c in ident).replace(" ", "").replace("\u3000", "").upper()
        doc = s.exec(select(Document).where(Document.doc_key == folded)).first()
    if doc is None:
        alias = s.exec(select(DocumentUrl).where(DocumentUrl.url == ident)).first()
        if alias is None:
            doc = s.exec(select(Document).where(Document.doc_key == doc_key(None, ident))).first()
        else:
            doc = s.get(Document, alias.document_id)
    return doc


def get_version(s: Session, doc: Document, version: Optional[int] = None) -> Optional[DocumentVersion]:
    return s.exec(select(DocumentVersion).where(DocumentVersion.document_id == doc.id,
                                                DocumentVersion.version == (version or doc.version))).first()


def document_json(s: Session, doc: Document, version: Optional[int] = None,
                  body: bool = True, sources: Optional[dict[int, str]] = None) -> dict:
    """The contract's document object (keys stable, null when absent, ISO dates)."""
    ver = get_version(s, doc, version)
    rec = ver.record if ver else {}
    urls = s.exec(select(DocumentUrl.url).where(DocumentUrl.document_id == doc.id)
                  .order_by(DocumentUrl.first_seen, DocumentUrl.id)).all()
    atts = s.exec(select(Attachment).where(Attachment.version_id == ver.id)).all() if ver else []
    source = (sources or {}).get(doc.source_id) or s.get(Source, doc.source_id).name
    out = {k: rec.get(k) for k in CONTRACT_FIELDS}
    out["index_no"] = doc.index_no
    out["fields"] = rec.get("fields") or {}
    if body:
        out["body_text"] = ver.body_text if ver else None
    out.update({
        "url": doc.url,
        "urls": list(urls),
        "source": source,
        "attachments": [{"name": a.name, "url": a.url, "sha256": a.sha256, "size": a.size} for a in atts],
        "version": ver.version if ver else doc.version,
        "versions": doc.version,
        "first_seen": _iso(doc.first_seen),
        "last_seen": _iso(doc.last_seen),
        "changed_at": _iso(doc.changed_at),
        "withdrawn_at": _iso(doc.withdrawn_at),
    })
    return out


def list_documents(s: Session, *, source: Optional[str] = None, since: Optional[str] = None,
                   publisher: Optional[str] = None, limit: Optional[int] = None) -> Iterator[Document]:
    """Newest first by publish date. `since` compares ISO dates (YYYY-MM-DD) on publish_date."""
    q = select(Document)
    if source:
        q = q.join(Source, Source.id == Document.source_id).where(Source.name == source)
    if since:
        q = q.where(Document.publish_date >= since)
    if publisher:
        q = q.where(Document.publisher.contains(publisher))
    q = q.order_by(Document.publish_date.desc().nulls_last(), Document.id.desc())
    if limit:
        q = q.limit(limit)
    yield from s.exec(q)


def source_names(s: Session) -> dict[int, str]:
    return {sid: name for sid, name in s.exec(select(Source.id, Source.name))}
