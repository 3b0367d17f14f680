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

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from storage import outbox, search
from storage.archive import PutResult
from storage.contract import doc_key
from storage.documents import CHANGED, DENORMALISED, NEW, UNCHANGED, Parsed
from storage.models import Attachment, Blob, Capture, Document, DocumentUrl, DocumentVersion, Event, utcnow
from storage.write_batch import Statement, WriteBatch, using

CT, BT, DT, DU, DV, AT, EV = (
    m.__table__ for m in (Capture, Blob, Document, DocumentUrl, DocumentVersion, Attachment, Event)
)
# The URL's alias, the 索引号's document and its current version, in one read.
_READ = Statement(
    text(
        "SELECT du.id, du.document_id, du.content_hash, d.id, d.version, d.flags, d.withdrawn_at, d.source_id, "
        "d.index_no, d.url, v.content_hash, v.parser_version FROM (SELECT 1 AS one) AS x "
        "LEFT JOIN document_urls du ON du.url = :url LEFT JOIN documents d ON d.doc_key = :key "
        "LEFT JOIN document_versions v ON v.document_id = d.id AND v.version = d.version"
    )
)


def _insert(table, phase: int, *keys: str) -> Statement:
    return Statement(insert(table), phase, keys)


# Written in this order (a row's parents first). Statements built and compiled once: building one per
# call costs about as much again as running it.
_BLOB = {
    d.__name__.rsplit(".", 1)[-1]: Statement(d.insert(BT).on_conflict_do_nothing(), 0, tuple(BT.c.keys()))
    for d in (sqlite, postgresql)
}
_CAPTURE = _insert(CT, 1, *CT.c.keys())
_DOCUMENT = _insert(DT, 2, *DT.c.keys())
_ALIAS = _insert(DU, 3, *(k for k in DU.c.keys() if k != "id"))
_VERSION = _insert(DV, 4, *DV.c.keys())
_FILE = _insert(AT, 5, *(k for k in AT.c.keys() if k != "id"))
_SEARCH = _insert(search.ST, 6, *search.ST.c.keys())
_FTS = {sql: Statement(sql, 7) for sql in search.FTS_INSERTS}
_EVENT = _insert(EV, 8, *(k for k in EV.c.keys() if k != "id"))
_UPDATES: dict[tuple, Statement] = {}  # (table, columns set) -> the UPDATE by id


def _update(table, values: dict) -> Statement:
    """UPDATE table SET (the columns of `values` but _id) WHERE id = :_id."""
    key = (table.name, tuple(values))
    stmt = _UPDATES.get(key)
    if stmt is None:
        cols = tuple(k for k in values if k != "_id")
        stmt = _UPDATES[key] = Statement(update(table).where(table.c.id == bindparam("_id")), 9, (*cols, "_id"))
    return stmt


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
    same rows storage/captures.archive_response writes (with the transaction's batch: written with it)."""
    fetched_at = fetched_at or utcnow()
    with using(conn) as batch:
        batch.add(
            _BLOB[conn.dialect.name],
            {"sha256": put.sha256, "size": put.size, "stored_size": put.stored_size, "created_at": fetched_at},
        )
        cid = batch.new_id(CT)
        batch.add(
            _CAPTURE,
            {
                "id": cid,
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
            },
        )
    return CaptureRow(cid, url, kind, status, put.sha256, put.size, fetched_at, run_id, source_id)


@dataclass
class _Known:
    """What _READ found: the URL's alias, the key's document, its current version (None: no row)."""

    alias_id: int | None
    alias_doc: int | None
    alias_hash: str | None
    doc_id: int | None
    version: int | None
    flags: Any
    withdrawn_at: Any
    source_id: int | None
    index_no: str | None
    url: str | None
    cur_hash: str | None
    cur_parser: str | None


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
    with using(conn) as batch:
        return _record(batch, source_id, url, capture_id, parsed, list_title, list_date, list_meta, seen_at)


def _record(
    batch: WriteBatch,
    source_id: int,
    url: str,
    capture_id: int,
    parsed: Parsed,
    list_title: str | None,
    list_date: str | None,
    list_meta: dict | None,
    seen_at: datetime | None,
) -> tuple[str, int] | None:
    now = seen_at or utcnow()
    key = doc_key(parsed.index_no, url)
    k = _Known(*(batch.read(_READ, {"url": url, "key": key}, url, key) or (None,) * 12))
    if k.alias_id is not None and (k.doc_id is None or k.alias_doc != k.doc_id):
        return None  # the URL is another document's, or the page's 索引号 changed: apply_parse decides
    listed = {"list_title": list_title, "list_date": list_date, "list_meta": list_meta}
    listed = {n: v for n, v in listed.items() if v is not None}
    fields = {name: parsed.record.get(name) for name in DENORMALISED}

    if k.doc_id is None:  # a new document at a new URL
        doc_id = batch.new_id(DT)
        batch.add(
            _DOCUMENT,
            {
                "id": doc_id,
                "doc_key": key,
                "index_no": parsed.index_no,
                "source_id": source_id,
                "url": url,
                "flags": [] if parsed.index_no else ["no_index_no"],
                "version": 1,
                **fields,
                "first_seen": now,
                "last_seen": now,
                "changed_at": now,
                "withdrawn_at": None,
            },
        )
        batch.touch(url, key)
        _insert_alias(batch, url, doc_id, source_id, now, parsed.content_hash, listed)
        _new_version(batch, doc_id, 1, capture_id, parsed, now, new_doc=True)
        _event(batch, NEW, source_id, doc_id, 1, parsed.index_no, fields, url)
        return NEW, doc_id

    if not k.version:
        return None
    if k.cur_hash is None or (k.cur_hash != parsed.content_hash and k.cur_parser != parsed.parser_version):
        return None  # no current version, or one from an older parser to re-parse first
    batch.touch(url, key)
    if k.alias_id is None:
        previous_at_url = None
        _insert_alias(batch, url, k.doc_id, source_id, now, parsed.content_hash, listed)
    else:
        previous_at_url = k.alias_hash
        alias = {"last_seen": now, "gone_at": None, "content_hash": parsed.content_hash, **listed, "_id": k.alias_id}
        batch.add(_update(DU, alias), alias)
    values: dict[str, Any] = {"last_seen": now}
    outcome = UNCHANGED
    if k.cur_hash != parsed.content_hash and previous_at_url != parsed.content_hash:
        outcome = CHANGED
        values.update(version=k.version + 1, changed_at=now, **fields)
        _new_version(batch, k.doc_id, k.version + 1, capture_id, parsed, now)
        _event(batch, CHANGED, k.source_id, k.doc_id, k.version + 1, k.index_no, fields, k.url)
    if k.withdrawn_at is not None:  # it came back after being withdrawn
        values["withdrawn_at"] = None
        flags = list((json.loads(k.flags) if isinstance(k.flags, str) else k.flags) or [])
        values["flags"] = flags if "reappeared" in flags else [*flags, "reappeared"]
    values["_id"] = k.doc_id
    batch.add(_update(DT, values), values)
    return outcome, k.doc_id


def _insert_alias(
    batch: WriteBatch, url: str, doc_id: int, source_id: int, now: datetime, content_hash: str, listed: dict
) -> None:
    row = {"list_title": None, "list_date": None, "list_meta": None, **listed}
    batch.add(
        _ALIAS,
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
    batch: WriteBatch,
    doc_id: int,
    version: int,
    capture_id: int,
    parsed: Parsed,
    now: datetime,
    new_doc: bool = False,
) -> None:
    ver_id = batch.new_id(DV)
    batch.add(
        _VERSION,
        {
            "id": ver_id,
            "document_id": doc_id,
            "version": version,
            "capture_id": capture_id,
            "content_hash": parsed.content_hash,
            "parser_version": parsed.parser_version,
            "record": parsed.record,
            "body_text": parsed.body_text,
            "seen_at": now,
        },
    )
    for a in parsed.record.get("attachments") or []:
        batch.add(
            _FILE,
            {
                "version_id": ver_id,
                "name": a["name"],
                "url": a["url"],
                "sha256": a.get("sha256"),
                "size": a.get("size"),
            },
        )
    title, body = parsed.record.get("title"), parsed.body_text
    if not new_doc:  # it has a row to compare and replace: read through Core, the batch written first
        batch.flush()
        search.index_document(batch.conn, doc_id, title, body)
        return
    title, body = search.normalise(title), search.normalise(body)
    batch.add(_SEARCH, {"document_id": doc_id, "title": title, "body": body})
    if batch.dialect.name == "sqlite":
        for sql, rows in search.fts_rows([(doc_id, title, body)]):
            batch.add(_FTS[sql], rows[0])


def _event(
    batch: WriteBatch,
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
    batch.add(
        _EVENT,
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
