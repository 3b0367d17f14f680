"""Archived capture -> parsed record -> documents. The crawl and a later reparse share this path.

Two things outside the page join its record here, so that a reparse (which has no list and downloads
nothing) reaches the same record and content hash as the crawl did:
- what the list said (索引号, 文号, dates, publisher …) fills contract fields the page leaves empty; the
  page wins, a disagreement is a warning; the crawl passes it in, a reparse reads what was recorded;
- each attachment's sha256 and size: a replaced file (new bytes at the same URL and name) changes the
  content hash, so it makes a new version. The crawl passes the files it just downloaded; otherwise
  they are the files archived as that capture was crawled (by its run, else the last before it), and
  a version re-parsed keeps the files it was recorded with: never another capture's.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Protocol

from loguru import logger
from sqlmodel import Session, select

from scraper.attachments import served_name
from scraper.parse import PARSER_VERSION, ParseError, parse_article
from scraper.parse.dates import to_iso
from scraper.parse.index_no import check_index_no, normalise
from scraper.parse.links import is_storage_name
from scraper.parse.model import content_digest
from scraper.parse.tree import collapse
from storage import write_batch
from storage.archive import ArchiveError, BlobStore
from storage.captures import capture_body, header, latest_file
from storage.crawl_write import CaptureRow, record_core
from storage.documents import Parsed, StaleParse, apply_parse, listing_of
from storage.models import Attachment, Capture, Document, DocumentUrl, DocumentVersion

_DATES = ("publish_date", "written_date")


class Captured(Protocol):
    """What joining a page with its list and files reads of its capture (a Capture, or a CaptureRow)."""

    url: str
    run_id: int | None
    fetched_at: datetime


Files = dict[str, tuple[str, int] | None]  # attachment URL -> (sha256, size) of its archived file


def parse_capture(store: BlobStore, cap: Capture) -> Parsed:
    """Parse the archived bytes of `cap` (raises scraper.parse.ParseError on a bad page)."""
    return parse_page(capture_body(store, cap), cap.url, header(cap, "content-type"))


def parse_page(body: bytes, url: str, content_type: str | None) -> Parsed:
    """Parse a page's raw bytes, as fetched or as archived: pure (raises ParseError on a bad page)."""
    art = parse_article(body, url, content_type)
    record = art.to_dict()
    digest = content_digest(record)  # art.content_hash(), without making the record a second time
    body = record.pop("body_text", "")
    return Parsed(record=record, body_text=body, content_hash=digest, parser_version=PARSER_VERSION)


def content_hash(record: dict, body_text: str) -> str:
    """The ParsedArticle content hash, over a record that may have gained list values and file hashes."""
    return content_digest({**record, "body_text": body_text})


def _list_value(key: str, raw) -> str | None:
    text = collapse(str(raw or ""))
    if key == "index_no":
        return normalise(text)
    if key in _DATES:
        return to_iso(text)
    return text or None


def merge_listing(record: dict, list_title: str | None, meta: dict | None) -> list[str]:
    """Fill the contract fields the page left empty from the list; returns the fields filled."""
    filled, warnings = [], record.setdefault("warnings", [])
    for key, raw in (meta or {}).items():
        value = _list_value(key, raw)
        if value is None or key not in record:
            continue
        if record[key] is None:
            record[key] = value
            filled.append(key)
            if key == "index_no":
                warnings.extend(check_index_no(value))
        elif record[key] != value:
            warnings.append(f"the list gives {key} {value!r}, the page {record[key]!r}")
    if record.get("title") is None and list_title:
        record["title"] = collapse(list_title)
        filled.append("title")
    if filled:
        record["from_list"] = filled
    return filled


def add_files(s: Session, record: dict, files: Files) -> None:
    """Each attachment's (sha256, size); a file the page names only by a storage id (or not at all) takes
    the name its server sent with those bytes (`Content-Disposition`), when it sent one."""
    for att in record.get("attachments") or []:
        known = files.get(att["url"])
        if known:
            att["sha256"], att["size"] = known
            if is_storage_name(att["name"]):
                att["name"] = _served_name(s, att["url"], known[0]) or att["name"]


def _served_name(s: Session, url: str, sha256: str) -> str | None:
    cap = s.exec(
        select(Capture)
        .where(Capture.url == url, Capture.sha256 == sha256, Capture.kind == "attachment")
        .order_by(Capture.id.desc())
    ).first()
    return served_name(header(cap, "content-disposition")) if cap is not None else None


def files_as_crawled(s: Session, cap: Captured, urls: list[str]) -> Files:
    """The files archived for `urls` when `cap` was crawled: by its run, else the last ones before it."""
    return {
        u: (cap.run_id is not None and latest_file(s, u, run_id=cap.run_id)) or latest_file(s, u, until=cap.fetched_at)
        for u in urls
    }


def own_files(s: Session, ver: DocumentVersion) -> Files:
    """The files `ver` was recorded with: its own attachment rows."""
    rows = s.exec(select(Attachment).where(Attachment.version_id == ver.id).order_by(Attachment.id))
    return {a.url: (a.sha256, a.size) if a.sha256 else None for a in rows}


def links(parsed: Parsed) -> list[str]:
    """The attachment URLs the page links, once each."""
    return list(dict.fromkeys(a["url"] for a in parsed.record.get("attachments") or []))


def _links(parsed: Parsed) -> list[str]:
    return [a["url"] for a in parsed.record.get("attachments") or []]


def complete(
    s: Session,
    parsed: Parsed,
    cap: Captured,
    url: str | None = None,
    *,
    list_title: str | None = None,
    list_meta: dict | None = None,
    files: Files | None = None,
) -> Parsed:
    """`parsed` (from `cap`, listed at `url`) joined with its list values and attachment files; what
    was not given is read from the archive (the list values recorded for `url`, the files as crawled)."""
    url = url or cap.url
    if list_meta is None:
        recorded_title, list_meta = listing_of(s, url)
        list_title = list_title if list_title is not None else recorded_title
    if files is None:
        files = files_as_crawled(s, cap, _links(parsed))
    record = json.loads(json.dumps(parsed.record, ensure_ascii=False))
    merge_listing(record, list_title, list_meta)
    add_files(s, record, files)
    return Parsed(
        record=record,
        body_text=parsed.body_text,
        content_hash=content_hash(record, parsed.body_text),
        parser_version=parsed.parser_version,
    )


def process_capture(
    s: Session,
    store: BlobStore,
    cap: Capture,
    source_id: int,
    url: str | None = None,
    list_title: str | None = None,
    list_date: str | None = None,
    list_meta: dict | None = None,
    files: Files | None = None,
) -> tuple[str, Document, Parsed]:
    """Parse an archived capture and record it (reparse's path; the crawl parses what it fetched)."""
    return record_page(
        s, store, cap, parse_capture(store, cap), source_id, url, list_title, list_date, list_meta, files
    )


def record_page(
    s: Session,
    store: BlobStore,
    cap: Capture,
    page: Parsed,
    source_id: int,
    url: str | None = None,
    list_title: str | None = None,
    list_date: str | None = None,
    list_meta: dict | None = None,
    files: Files | None = None,
) -> tuple[str, Document, Parsed]:
    """Record `page` (parsed from `cap`'s bytes) as what `url` (the URL the list gave; the capture's
    may be the end of a redirect) served. When the document's current version came from an older
    parser, that version is parsed again here first (storage asks, it never calls the parser)."""
    url = url or cap.url
    parsed = complete(s, page, cap, url, list_title=list_title, list_meta=list_meta, files=files)
    outcome, doc = _apply_completed(s, store, cap, parsed, source_id, url, list_title, list_date, list_meta)
    return outcome, doc, parsed


def _apply_completed(
    s: Session,
    store: BlobStore,
    cap: Capture,
    parsed: Parsed,
    source_id: int,
    url: str,
    list_title: str | None,
    list_date: str | None,
    list_meta: dict | None,
) -> tuple[str, Document]:
    """apply_parse for `parsed` (already joined with its list and files), re-parsing first any current
    version an older parser made (storage asks, it never calls the parser)."""
    reparsed: dict[int, Parsed | None] = {}
    while True:
        try:
            with s.begin_nested():
                outcome, doc = apply_parse(
                    s,
                    source_id=source_id,
                    url=url,
                    capture_id=cap.id,
                    parsed=parsed,
                    list_title=list_title,
                    list_date=list_date,
                    list_meta=list_meta,
                    seen_at=cap.fetched_at,
                    reparsed=reparsed,
                )
            return outcome, doc
        except StaleParse as stale:
            reparsed[stale.version.id] = _reparse_quietly(s, store, stale.version)


def record_crawled(
    s: Session,
    store: BlobStore,
    cap: CaptureRow,
    page: Parsed,
    source_id: int,
    url: str,
    list_title: str | None = None,
    list_date: str | None = None,
    list_meta: dict | None = None,
    files: Files | None = None,
) -> tuple[str, Parsed]:
    """The crawl's `record_page`: the common cases through storage/crawl_write.py (Core statements, no
    ORM objects, no savepoint on SQLite, where the write lock is ours from BEGIN), the others through
    record_page. Returns (outcome, the record as stored)."""
    parsed = complete(s, page, cap, url, list_title=list_title, list_meta=list_meta, files=files)
    args = dict(
        source_id=source_id,
        url=url,
        capture_id=cap.id,
        parsed=parsed,
        list_title=list_title,
        list_date=list_date,
        list_meta=list_meta,
        seen_at=cap.fetched_at,
    )
    if s.dirty or s.new:
        s.flush()  # Core reads what the session has written so far
    conn = write_batch.connection(s)
    if conn.dialect.name == "sqlite" or write_batch.active(conn):  # a batch's failure re-runs its units alone
        done = record_core(conn, **args)
    else:  # another writer may insert the same URL or 索引号 meanwhile: its IntegrityError is this step's alone
        with s.begin_nested():
            done = record_core(conn, **args)
    _forget_documents(s)  # ORM objects read earlier in this transaction may predate Core's rows
    if done is not None:
        return done[0], parsed
    full = s.get(Capture, cap.id)
    outcome, _doc = _apply_completed(s, store, full, parsed, source_id, url, list_title, list_date, list_meta)
    return outcome, parsed


def _forget_documents(s: Session) -> None:
    """Document rows the session holds are read again when next used (Core wrote past them)."""
    if s.dirty or s.new:
        s.flush()  # expiring an object drops its unflushed changes
    for obj in list(s.identity_map.values()):
        if isinstance(obj, Document | DocumentUrl | DocumentVersion):
            s.expire(obj)


def parse_version(s: Session, store: BlobStore, ver: DocumentVersion) -> Parsed:
    """A version's own capture parsed again with today's parser, joined as the crawl joined it, with the
    files that version was recorded with."""
    cap = s.get(Capture, ver.capture_id)
    title, meta = listing_of(s, cap.url)
    return join_version(s, parse_capture(store, cap), cap, (title, meta or {}), own_files(s, ver))


def join_version(s: Session, page: Parsed, cap: Capture, listing: tuple[str | None, dict], own: Files) -> Parsed:
    """`page` (today's parse of a version's capture `cap`) joined as the crawl joined it: the list values
    recorded for its URL (`listing`), the files the version was recorded with (`own`) and, for links it
    did not have, the files as crawled. A reparse batch reads `listing` and `own` up front."""
    title, meta = listing
    files = {**files_as_crawled(s, cap, [u for u in _links(page) if u not in own]), **own}
    return complete(s, page, cap, list_title=title, list_meta=meta, files=files)


def _reparse_quietly(s: Session, store: BlobStore, ver: DocumentVersion) -> Parsed | None:
    try:
        return parse_version(s, store, ver)
    except (ParseError, ArchiveError) as exc:
        logger.warning("cannot re-parse version {} of document {}: {}", ver.version, ver.document_id, exc)
        return None
