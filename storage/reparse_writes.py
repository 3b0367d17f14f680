"""A reparse batch read and recorded in a few statements (SQLAlchemy Core), not an ORM flush a version.

`read_batch` reads a batch's version, document, capture, listing and attachment rows in five queries;
`record_reparses` records the batch's new parses as `storage/documents.record_reparse` records one,
with one executemany a kind of write: the versions' parser versions and parses, the previous parses
(document_reparses), the attachment rows (kept by URL, added, removed), what each URL served last,
the current versions' documents and their search index rows. Same rows as record_reparse, written in
the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection, Row

from storage import search
from storage.documents import DENORMALISED, REPARSED, UNCHANGED, Parsed
from storage.models import (
    Attachment,
    Capture,
    Document,
    DocumentReparse,
    DocumentUrl,
    DocumentVersion,
    utcnow,
)

DV, DOC, CAP = DocumentVersion.__table__, Document.__table__, Capture.__table__
URLS, ATT, REP = DocumentUrl.__table__, Attachment.__table__, DocumentReparse.__table__
Files = dict[str, tuple[str, int] | None]  # attachment URL -> (sha256, size) of its archived file


@dataclass
class Batch:
    """A batch's rows, read up front: versions, their documents and captures (by id), the list values
    recorded for each capture's URL, and each version's attachment rows (in id order)."""

    versions: dict[int, Row] = field(default_factory=dict)
    documents: dict[int, Row] = field(default_factory=dict)
    captures: dict[int, Row] = field(default_factory=dict)
    listings: dict[str, tuple[str | None, dict]] = field(default_factory=dict)
    attachments: dict[int, list[Row]] = field(default_factory=dict)

    def own_files(self, version_id: int) -> Files:
        """The files version `version_id` was recorded with (its attachment rows)."""
        return {a.url: (a.sha256, a.size) if a.sha256 else None for a in self.attachments.get(version_id, [])}


def read_batch(conn: Connection, ids: Iterable[int]) -> Batch:
    b = Batch()
    ids = list(ids)
    versions = select(
        DV.c.id, DV.c.document_id, DV.c.version, DV.c.capture_id, DV.c.content_hash, DV.c.parser_version,
        DV.c.record, DV.c.body_text,
    )  # fmt: skip
    b.versions = {v.id: v for v in conn.execute(versions.where(DV.c.id.in_(ids)))}
    doc_ids = {v.document_id for v in b.versions.values()}
    documents = select(DOC.c.id, DOC.c.version, DOC.c.index_no, DOC.c.url, DOC.c.flags)
    b.documents = {d.id: d for d in conn.execute(documents.where(DOC.c.id.in_(doc_ids)))}
    captures = select(CAP.c.id, CAP.c.url, CAP.c.run_id, CAP.c.fetched_at)
    b.captures = {
        c.id: c for c in conn.execute(captures.where(CAP.c.id.in_({v.capture_id for v in b.versions.values()})))
    }
    listed = select(URLS.c.url, URLS.c.list_title, URLS.c.list_meta)
    urls = {c.url for c in b.captures.values()}
    b.listings = {r.url: (r.list_title, r.list_meta or {}) for r in conn.execute(listed.where(URLS.c.url.in_(urls)))}
    files = select(ATT.c.id, ATT.c.version_id, ATT.c.url, ATT.c.name, ATT.c.sha256, ATT.c.size)
    for a in conn.execute(files.where(ATT.c.version_id.in_(ids)).order_by(ATT.c.id)):
        b.attachments.setdefault(a.version_id, []).append(a)
    return b


@dataclass
class _Writes:
    parser_only: list[dict] = field(default_factory=list)
    versions: list[dict] = field(default_factory=list)
    previous: list[dict] = field(default_factory=list)
    att_new: list[dict] = field(default_factory=list)
    att_names: list[dict] = field(default_factory=list)
    att_gone: list[int] = field(default_factory=list)
    url_hashes: list[dict] = field(default_factory=list)
    documents: dict[int, dict] = field(default_factory=dict)
    search: list[tuple[int, str | None, str | None]] = field(default_factory=list)


def record_reparses(
    conn: Connection, batch: Batch, parses: Sequence[tuple[int, Parsed]], now: datetime | None = None
) -> list[str]:
    """Record each (version id, that version's capture parsed again by a newer parser) of `batch`, in
    order: UNCHANGED (the parse is identical: its parser version noted) or REPARSED (the previous parse
    kept in document_reparses, the version row takes the new one). Returns the outcomes, in order."""
    now = now or utcnow()
    w, outcomes = _Writes(), []
    for ver_id, parsed in parses:
        ver = batch.versions[ver_id]
        if parsed.record == ver.record and parsed.body_text == ver.body_text:
            w.parser_only.append({"v_id": ver_id, "parser_version": parsed.parser_version})
            outcomes.append(UNCHANGED)
            continue
        outcomes.append(REPARSED)
        w.previous.append(
            {
                "version_id": ver_id,
                "parser_version": parsed.parser_version,
                "previous_parser_version": ver.parser_version,
                "previous_content_hash": ver.content_hash,
                "previous_record": ver.record,
                "previous_body_text": ver.body_text,
                "reparsed_at": now,
            }
        )
        w.versions.append(
            {
                "v_id": ver_id,
                "record": parsed.record,
                "body_text": parsed.body_text,
                "content_hash": parsed.content_hash,
                "parser_version": parsed.parser_version,
            }
        )
        _sync_attachments(w, ver_id, batch.attachments.get(ver_id, []), parsed.record.get("attachments") or [])
        # What each URL served last is now known by the new parse's hash (no spurious version next crawl).
        w.url_hashes.append({"d_id": ver.document_id, "old": ver.content_hash, "new": parsed.content_hash})
        doc = batch.documents[ver.document_id]
        if ver.version == doc.version:
            flags = list(doc.flags or [])
            if parsed.index_no != doc.index_no and "index_no_differs_on_reparse" not in flags:
                flags.append("index_no_differs_on_reparse")
            w.documents[doc.id] = {"d_id": doc.id, "flags": flags} | {n: parsed.record.get(n) for n in DENORMALISED}
            w.search.append((doc.id, parsed.record.get("title"), parsed.body_text))
    _write(conn, w)
    return outcomes


def _sync_attachments(w: _Writes, ver_id: int, rows: list[Row], links: list[dict]) -> None:
    """Attachment rows follow the record; rows kept by URL keep what was downloaded (sha256, size)."""
    by_url = {a.url: a for a in rows}
    for link in links:
        row = by_url.pop(link["url"], None)
        if row is None:
            w.att_new.append(
                {"version_id": ver_id, "name": link["name"], "url": link["url"]}
                | {"sha256": link.get("sha256"), "size": link.get("size")}
            )
        elif row.name != link["name"]:
            w.att_names.append({"a_id": row.id, "name": link["name"]})
    w.att_gone.extend(a.id for a in by_url.values())


def _write(conn: Connection, w: _Writes) -> None:
    by_id = DV.c.id == bindparam("v_id")
    if w.parser_only:
        conn.execute(update(DV).where(by_id).values(parser_version=bindparam("parser_version")), w.parser_only)
    if w.previous:
        conn.execute(insert(REP), w.previous)
    if w.versions:
        conn.execute(update(DV).where(by_id), w.versions)
    if w.att_new:
        conn.execute(insert(ATT), w.att_new)
    if w.att_names:
        conn.execute(update(ATT).where(ATT.c.id == bindparam("a_id")), w.att_names)
    if w.att_gone:
        conn.execute(delete(ATT).where(ATT.c.id.in_(w.att_gone)))
    if w.url_hashes:  # in version order: each statement sees the ones before it, as one at a time would
        same = and_(URLS.c.document_id == bindparam("d_id"), URLS.c.content_hash == bindparam("old"))
        conn.execute(update(URLS).where(same).values(content_hash=bindparam("new")), w.url_hashes)
    if w.documents:
        conn.execute(update(DOC).where(DOC.c.id == bindparam("d_id")), list(w.documents.values()))
    if w.search:
        search.index_documents(conn, w.search)


def same_as_previous(conn: Connection, batch: Batch, reparsed: Iterable[tuple[int, Parsed]]) -> int:
    """How many of the re-parsed versions now read the same as the version before them (one query)."""
    pairs: dict[tuple[int, int], Any] = {}
    for ver_id, parsed in reparsed:
        ver = batch.versions[ver_id]
        pairs[(ver.document_id, ver.version - 1)] = parsed.content_hash
    if not pairs:
        return 0
    q = select(DV.c.document_id, DV.c.version, DV.c.content_hash).where(DV.c.document_id.in_({d for d, _ in pairs}))
    return sum(pairs.get((r.document_id, r.version)) == r.content_hash for r in conn.execute(q))
