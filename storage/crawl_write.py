"""The crawl's write path in SQLAlchemy Core: a capture row, and a parsed document page recorded, with
prepared statements instead of ORM objects and flushes (issue 13: the ORM path cost ~5 ms CPU per
document in the writer thread).

`record_core` handles the cases a crawl meets almost always, with the very rows storage/documents.py
`apply_parse` writes for them:
- a new document (its 索引号 and its URL unknown);
- a known document at a URL it was seen at before, or at a new URL (the same 索引号 elsewhere):
  unchanged, or changed by the publisher (a new version).
Anything else (a URL that belongs to another document, a page that gained or lost its 索引号, a current
version from an older parser that must be re-parsed first, a document without versions) returns None
before writing anything: the caller records it through `apply_parse`, which decides those.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from storage import outbox, search
from storage.archive import PutResult
from storage.contract import doc_key
from storage.documents import CHANGED, DENORMALISED, NEW, UNCHANGED, Parsed
from storage.models import Attachment, Blob, Capture, Document, DocumentUrl, DocumentVersion, Event, utcnow

CT, BT, DT, DU, DV, AT, EV = (
    m.__table__ for m in (Capture, Blob, Document, DocumentUrl, DocumentVersion, Attachment, Event)
)
_ALIAS = select(DU.c.id, DU.c.document_id, DU.c.content_hash).where(DU.c.url == bindparam("url"))
_DOC = select(
    DT.c.id,
    DT.c.version,
    DT.c.flags,
    DT.c.withdrawn_at,
    DT.c.source_id,
    DT.c.index_no,
    DT.c.url,
    *(DT.c[name] for name in DENORMALISED),
).where(DT.c.doc_key == bindparam("key"))
_CURRENT = select(DV.c.id, DV.c.content_hash, DV.c.parser_version).where(
    DV.c.document_id == bindparam("doc"), DV.c.version == bindparam("version")
)
# Statements built once: building one per call (insert(table)) costs about as much again as running it.
_INSERT = {t.name: insert(t) for t in (CT, DT, DU, DV, AT, EV)}
_BY_ID = {t.name: update(t).where(t.c.id == bindparam("_id")) for t in (DT, DU)}  # SET: the columns given
_BLOB = {d.__name__.rsplit(".", 1)[-1]: d.insert(BT).on_conflict_do_nothing() for d in (sqlite, postgresql)}


@dataclass
class CaptureRow:
    """A capture as inserted (the columns the crawl reads back), without an ORM object."""

    id: int
    url: str
    kind: str
    status: int
    sha256: str | None
    size: int
    fetched_at: datetime
    run_id: int | None
    source_id: int | None


def insert_capture(
    conn: Connection,
    put: PutResult,
    *,
    url: str,
    status: int,
    headers: list,
    method: str = "GET",
    request_headers: list | None = None,
    request_body: bytes | None = None,
    fetched_at: datetime | None = None,
    run_id: int | None = None,
    source_id: int | None = None,
    kind: str = "page",
    error: str | None = None,
) -> CaptureRow:
    """The blob's row (if new) and the capture's, for a blob already put in the store (`put`): the
    same rows storage/captures.archive_response writes."""
    fetched_at = fetched_at or utcnow()
    conn.execute(
        _BLOB[conn.dialect.name],
        {"sha256": put.sha256, "size": put.size, "stored_size": put.stored_size, "created_at": fetched_at},
    )
    row = {
        "run_id": run_id,
        "source_id": source_id,
        "kind": kind,
        "method": method,
        "url": url,
        "request_body": request_body,
        "request_headers": [list(h) for h in request_headers or []],
        "status": status,
        "headers": [list(h) for h in headers],
        "fetched_at": fetched_at,
        "sha256": put.sha256,
        "size": put.size,
        "error": error,
    }
    cid = conn.execute(_INSERT[CT.name], row).inserted_primary_key[0]
    return CaptureRow(cid, url, kind, status, put.sha256, put.size, fetched_at, run_id, source_id)


def record_core(
    conn: Connection,
    *,
    source_id: int,
    url: str,
    capture_id: int,
    parsed: Parsed,
    list_title: str | None = None,
    list_date: str | None = None,
    list_meta: dict | None = None,
    seen_at: datetime | None = None,
) -> tuple[str, int] | None:
    """Record that `url` served `parsed` (from capture `capture_id`), as apply_parse (with re-parse
    checks on) would: (outcome, document id), or None, having written nothing, when the case is not
    one of the common ones (the caller then calls apply_parse)."""
    now = seen_at or utcnow()
    key = doc_key(parsed.index_no, url)
    alias = conn.execute(_ALIAS, {"url": url}).first()
    doc = conn.execute(_DOC, {"key": key}).first()
    if alias is not None and (doc is None or alias.document_id != doc.id):
        return None  # the URL is another document's, or the page's 索引号 changed: apply_parse decides
    listed = {"list_title": list_title, "list_date": list_date, "list_meta": list_meta}
    listed = {k: v for k, v in listed.items() if v is not None}
    fields = {name: parsed.record.get(name) for name in DENORMALISED}

    if doc is None:  # a new document at a new URL
        flags = [] if parsed.index_no else ["no_index_no"]
        doc_id = conn.execute(
            _INSERT[DT.name],
            {
                "doc_key": key,
                "index_no": parsed.index_no,
                "source_id": source_id,
                "url": url,
                "flags": flags,
                "version": 1,
                **fields,
                "first_seen": now,
                "last_seen": now,
                "changed_at": now,
                "withdrawn_at": None,
            },
        ).inserted_primary_key[0]
        _insert_alias(conn, url, doc_id, source_id, now, parsed.content_hash, listed)
        _new_version(conn, doc_id, 1, capture_id, parsed, now, new_doc=True)
        _event(conn, NEW, source_id, doc_id, 1, parsed.index_no, fields, url)
        return NEW, doc_id

    if not doc.version:
        return None
    cur = conn.execute(_CURRENT, {"doc": doc.id, "version": doc.version}).first()
    if cur is None or (cur.content_hash != parsed.content_hash and cur.parser_version != parsed.parser_version):
        return None  # no current version, or one from an older parser to re-parse first
    if alias is None:
        previous_at_url = None
        _insert_alias(conn, url, doc.id, source_id, now, parsed.content_hash, listed)
    else:
        previous_at_url = alias.content_hash
        conn.execute(
            _BY_ID[DU.name],
            {"_id": alias.id, "last_seen": now, "gone_at": None, "content_hash": parsed.content_hash, **listed},
        )
    values: dict[str, Any] = {"last_seen": now}
    outcome = UNCHANGED
    if cur.content_hash != parsed.content_hash and previous_at_url != parsed.content_hash:
        outcome = CHANGED
        values.update(version=doc.version + 1, changed_at=now, **fields)
        _new_version(conn, doc.id, doc.version + 1, capture_id, parsed, now)
        _event(conn, CHANGED, doc.source_id, doc.id, doc.version + 1, doc.index_no, fields, doc.url)
    if doc.withdrawn_at is not None:  # it came back after being withdrawn
        values["withdrawn_at"] = None
        flags = list(doc.flags or [])
        values["flags"] = flags if "reappeared" in flags else [*flags, "reappeared"]
    conn.execute(_BY_ID[DT.name], {"_id": doc.id, **values})
    return outcome, doc.id


def _insert_alias(
    conn: Connection, url: str, doc_id: int, source_id: int, now: datetime, content_hash: str, listed: dict
) -> None:
    row = {"list_title": None, "list_date": None, "list_meta": None, **listed}
    conn.execute(
        _INSERT[DU.name],
        {
            "url": url,
            "document_id": doc_id,
            "source_id": source_id,
            **row,
            "content_hash": content_hash,
            "first_seen": now,
            "last_seen": now,
            "gone_at": None,
        },
    )


def _new_version(
    conn: Connection, doc_id: int, version: int, capture_id: int, parsed: Parsed, now: datetime, new_doc: bool = False
) -> None:
    ver_id = conn.execute(
        _INSERT[DV.name],
        {
            "document_id": doc_id,
            "version": version,
            "capture_id": capture_id,
            "content_hash": parsed.content_hash,
            "parser_version": parsed.parser_version,
            "record": parsed.record,
            "body_text": parsed.body_text,
            "seen_at": now,
        },
    ).inserted_primary_key[0]
    files = [
        {"version_id": ver_id, "name": a["name"], "url": a["url"], "sha256": a.get("sha256"), "size": a.get("size")}
        for a in parsed.record.get("attachments") or []
    ]
    if files:
        conn.execute(_INSERT[AT.name], files)
    search.index_document(conn, doc_id, parsed.record.get("title"), parsed.body_text, new=new_doc)


def _event(
    conn: Connection,
    kind: str,
    source_id: int,
    doc_id: int,
    version: int,
    index_no: str | None,
    fields: dict,
    url: str,
) -> None:
    """The outbox row storage/outbox.record adds for a document (same transaction, same detail)."""
    detail = {
        "index_no": index_no,
        "title": fields["title"],
        "publisher": fields["publisher"],
        "publish_date": fields["publish_date"],
        "doc_no": fields["doc_no"],
        "url": url,
    }
    conn.execute(
        _INSERT[EV.name],
        {
            "kind": kind,
            "source_id": source_id,
            "document_id": doc_id,
            "version": version,
            "detail": detail,
            "created_at": utcnow(),
        },
    )


assert outbox.NEW == NEW and outbox.CHANGED == CHANGED  # the event kinds are the outcomes
