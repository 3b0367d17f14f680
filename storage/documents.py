"""Identity, URL aliases, versions and withdrawals: the dedupe rules, in one place.

- A document is its normalised 索引号; a page without one is keyed by its URL ('url:<url>') and flagged.
- The same 索引号 at another URL adds a URL, never a document.
- A new version only when the parsed content hash changes (volatile bytes never reach the hash);
  a URL that keeps serving what it served before cannot flip the document back and forth.
- A URL that now carries another 索引号 moves to that document, and both are flagged; nothing is
  overwritten: every version stays.
- A newer parser reading the same capture re-parses that version in place (the previous parse kept
  in document_reparses): never a new version, never an edit by the publisher.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from storage import outbox, search
from storage.contract import doc_key
from storage.models import Attachment, Document, DocumentReparse, DocumentUrl, DocumentVersion, utcnow

NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"
REPARSED = "reparsed"
DENORMALISED = ("title", "doc_no", "publisher", "publish_date")


@dataclass
class Parsed:
    """What the parser produced for one capture, as plain data (storage knows no parser)."""

    record: dict  # contract fields + fields + attachments + related + warnings
    body_text: str
    content_hash: str
    parser_version: str

    @property
    def index_no(self) -> str | None:
        return self.record.get("index_no") or None


class StaleParse(Exception):
    """The document's current version came from an older parser and differs: parse that version's own
    capture again and call apply_parse once more with it in `reparsed` (storage never calls the parser)."""

    def __init__(self, version: DocumentVersion):
        super().__init__(f"version {version.version} of document {version.document_id} needs a re-parse")
        self.version = version


def _add_flag(doc: Document, flag: str) -> None:
    if flag not in (doc.flags or []):
        doc.flags = [*(doc.flags or []), flag]


def current_version(s: Session, doc: Document) -> DocumentVersion | None:
    return s.exec(
        select(DocumentVersion).where(DocumentVersion.document_id == doc.id, DocumentVersion.version == doc.version)
    ).first()


def apply_parse(
    s: Session,
    *,
    source_id: int,
    url: str,
    capture_id: int,
    parsed: Parsed,
    list_title: str | None = None,
    list_date: str | None = None,
    list_meta: dict | None = None,
    seen_at: datetime | None = None,
    reparsed: dict[int, Parsed | None] | None = None,
) -> tuple[str, Document]:
    """Record that `url` served `parsed` (from capture `capture_id`). Returns (outcome, document).

    This is THE place where "new document / changed version / withdrawn no more" is decided, inside
    the caller's write transaction (the alerts' transactional outbox records its event here).

    `reparsed` (version id -> that version's capture parsed with today's parser, None if it cannot
    be): when the current version came from an older parser and differs, it is re-parsed first, so a
    better parser is never taken for an edit by the publisher. A version missing from `reparsed`
    raises StaleParse (run in a savepoint: the caller parses it and calls again). None: no check."""
    now = seen_at or utcnow()
    key = doc_key(parsed.index_no, url)
    alias = s.exec(select(DocumentUrl).where(DocumentUrl.url == url)).first()
    doc = s.exec(select(Document).where(Document.doc_key == key)).first()
    by_url = s.get(Document, alias.document_id) if alias else None

    if doc is None and by_url is not None and by_url.index_no is None and parsed.index_no:
        # The page gained an 索引号: the URL-keyed document takes it on.
        by_url.doc_key, by_url.index_no = key, parsed.index_no
        by_url.flags = [f for f in (by_url.flags or []) if f != "no_index_no"]
        doc = by_url
    elif by_url is not None and doc is not None and by_url.id != doc.id:
        _add_flag(by_url, "url_moved_out")
        _add_flag(doc, "url_moved_in")
    elif by_url is not None and doc is None and not parsed.index_no:
        doc = by_url  # the page lost its 索引号 (a template change): same document
        _add_flag(doc, "index_no_missing_on_page")
    elif by_url is not None and doc is None:
        _add_flag(by_url, "index_no_changed")

    outcome = UNCHANGED
    if doc is None:
        doc = Document(
            doc_key=key,
            index_no=parsed.index_no,
            source_id=source_id,
            url=url,
            version=0,
            first_seen=now,
            last_seen=now,
            changed_at=now,
            flags=[],
        )
        if not parsed.index_no:
            _add_flag(doc, "no_index_no")
        _bump(doc, parsed, now)  # its first version's fields go in with the INSERT: no UPDATE after it
        s.add(doc)
        s.flush()
        outcome = NEW

    if alias is None:
        alias = DocumentUrl(url=url, document_id=doc.id, source_id=source_id, first_seen=now)
        s.add(alias)
    previous_at_url = alias.content_hash if alias.document_id == doc.id else None
    alias.document_id, alias.last_seen, alias.gone_at = doc.id, now, None
    alias.list_title = list_title if list_title is not None else alias.list_title
    alias.list_date = list_date if list_date is not None else alias.list_date
    alias.list_meta = list_meta if list_meta is not None else alias.list_meta
    alias.content_hash = parsed.content_hash

    cur = current_version(s, doc) if doc.version and outcome != NEW else None
    if (
        cur is not None
        and reparsed is not None
        and cur.content_hash != parsed.content_hash
        and cur.parser_version != parsed.parser_version
    ):
        if cur.id not in reparsed:
            raise StaleParse(cur)
        if reparsed[cur.id] is not None:
            record_reparse(s, doc, cur, reparsed[cur.id], now)
    # The decision, in the write transaction: a new document, a changed version, or the same content.
    # (The alerts helper adds `record_event(...)` here: same transaction, so no event without its row.)
    if cur is None or (cur.content_hash != parsed.content_hash and previous_at_url != parsed.content_hash):
        if outcome != NEW:
            _bump(doc, parsed, now)
        _new_version(s, doc, capture_id, parsed, now, new_doc=outcome == NEW)
        outcome = NEW if outcome == NEW or cur is None else CHANGED
        outbox.record(s, outcome, doc)
    doc.last_seen = now
    if doc.withdrawn_at is not None:  # it came back after being withdrawn (mark_gone decides that)
        doc.withdrawn_at = None
        _add_flag(doc, "reappeared")
    s.add(doc)
    return outcome, doc


def _bump(doc: Document, parsed: Parsed, now: datetime) -> None:
    """The document moves to its next version (`_new_version` adds that version's row)."""
    doc.version += 1
    doc.changed_at = now
    for name in DENORMALISED:
        setattr(doc, name, parsed.record.get(name))


def _new_version(
    s: Session, doc: Document, capture_id: int, parsed: Parsed, now: datetime, new_doc: bool = False
) -> None:
    ver = DocumentVersion(
        document_id=doc.id,
        version=doc.version,
        capture_id=capture_id,
        content_hash=parsed.content_hash,
        parser_version=parsed.parser_version,
        record=parsed.record,
        body_text=parsed.body_text,
        seen_at=now,
    )
    s.add(ver)
    s.flush()
    for att in parsed.record.get("attachments") or []:
        s.add(
            Attachment(
                version_id=ver.id, name=att["name"], url=att["url"], sha256=att.get("sha256"), size=att.get("size")
            )
        )
    search.index_document(s.connection(), doc.id, parsed.record.get("title"), parsed.body_text, new=new_doc)


def record_reparse(s: Session, doc: Document, ver: DocumentVersion, parsed: Parsed, now: datetime | None = None) -> str:
    """A newer parser read `ver`'s capture again: the same version, never a new one.

    Returns UNCHANGED when the parse is identical (the parser version is noted), else REPARSED:
    the previous parse goes to document_reparses and the version row takes the new one."""
    if parsed.record == ver.record and parsed.body_text == ver.body_text:
        ver.parser_version = parsed.parser_version
        s.add(ver)
        return UNCHANGED
    s.add(
        DocumentReparse(
            version_id=ver.id,
            parser_version=parsed.parser_version,
            previous_parser_version=ver.parser_version,
            previous_content_hash=ver.content_hash,
            previous_record=ver.record,
            previous_body_text=ver.body_text,
            reparsed_at=now or utcnow(),
        )
    )
    old_hash = ver.content_hash
    ver.record, ver.body_text = parsed.record, parsed.body_text
    ver.content_hash, ver.parser_version = parsed.content_hash, parsed.parser_version
    s.add(ver)
    _sync_attachments(s, ver, parsed.record.get("attachments") or [])
    # What each URL served last is now known by the new parse's hash (no spurious version next crawl).
    s.execute(
        update(DocumentUrl)
        .where(DocumentUrl.document_id == doc.id, DocumentUrl.content_hash == old_hash)
        .values(content_hash=parsed.content_hash)
    )
    if ver.version == doc.version:
        for name in DENORMALISED:
            setattr(doc, name, parsed.record.get(name))
        if parsed.index_no != doc.index_no:
            _add_flag(doc, "index_no_differs_on_reparse")
        s.add(doc)
        search.index_document(s.connection(), doc.id, parsed.record.get("title"), parsed.body_text)
    return REPARSED


def _sync_attachments(s: Session, ver: DocumentVersion, links: list[dict]) -> None:
    """Attachment rows follow the record; rows kept by URL keep what was downloaded (sha256, size)."""
    rows = {a.url: a for a in s.exec(select(Attachment).where(Attachment.version_id == ver.id))}
    for link in links:
        row = rows.pop(link["url"], None) or Attachment(
            version_id=ver.id, url=link["url"], name=link["name"], sha256=link.get("sha256"), size=link.get("size")
        )
        row.name = link["name"]
        s.add(row)
    for gone in rows.values():
        s.delete(gone)


def touch_url(s: Session, url: str, list_title: str | None, list_date: str | None) -> None:
    """A list showed `url` again, unchanged: refresh last_seen without fetching it."""
    alias = s.exec(select(DocumentUrl).where(DocumentUrl.url == url)).first()
    if alias is None:
        return
    now = utcnow()
    alias.last_seen = now
    doc = s.get(Document, alias.document_id)
    if doc is not None:
        doc.last_seen = now
        s.add(doc)
    s.add(alias)


def known_listing(s: Session, url: str) -> tuple[str | None, str | None, dict] | None:
    """(list_title, list_date, list metadata) the list showed for `url` last time, or None if never seen."""
    alias = s.exec(select(DocumentUrl).where(DocumentUrl.url == url, DocumentUrl.gone_at.is_(None))).first()
    return (alias.list_title, alias.list_date, alias.list_meta or {}) if alias else None


def listing_of(s: Session, url: str) -> tuple[str | None, dict | None]:
    """(list_title, list metadata) last recorded for `url` (a reparse has no list of its own)."""
    alias = s.exec(select(DocumentUrl).where(DocumentUrl.url == url)).first()
    return (alias.list_title, alias.list_meta) if alias else (None, None)


def live_urls(s: Session, source_id: int) -> list[str]:
    rows = s.exec(select(DocumentUrl.url).where(DocumentUrl.source_id == source_id, DocumentUrl.gone_at.is_(None)))
    return list(rows)


def mark_gone(s: Session, url: str) -> bool:
    """The portal no longer serves `url`. Returns True when that withdrew the whole document (decided
    here, in the write transaction: the alerts' outbox records a withdrawal here too)."""
    alias = s.exec(select(DocumentUrl).where(DocumentUrl.url == url)).first()
    if alias is None or alias.gone_at is not None:
        return False
    now = utcnow()
    alias.gone_at = now
    s.add(alias)
    s.flush()
    live = s.exec(
        select(DocumentUrl).where(DocumentUrl.document_id == alias.document_id, DocumentUrl.gone_at.is_(None))
    ).first()
    doc = s.get(Document, alias.document_id)
    if live is None and doc is not None and doc.withdrawn_at is None:
        doc.withdrawn_at = now
        s.add(doc)
        outbox.record(s, outbox.WITHDRAWN, doc)
        return True
    return False
