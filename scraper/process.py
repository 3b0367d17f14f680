"""Archived capture -> parsed record -> documents. The crawl and a later reparse share this path."""
from __future__ import annotations

from typing import Optional

from loguru import logger
from sqlmodel import Session

from scraper.parse import PARSER_VERSION, ParseError, parse_article
from storage.archive import ArchiveError, BlobStore
from storage.captures import capture_body, header
from storage.documents import Parsed, apply_parse, record_reparse
from storage.models import Capture, Document, DocumentVersion


def parse_capture(store: BlobStore, cap: Capture) -> Parsed:
    """Parse the archived bytes of `cap` (raises scraper.parse.ParseError on a bad page)."""
    art = parse_article(capture_body(store, cap), cap.url, header(cap, "content-type"))
    record = art.to_dict()
    body = record.pop("body_text", "")
    return Parsed(record=record, body_text=body, content_hash=art.content_hash(),
                  parser_version=PARSER_VERSION)


def process_capture(s: Session, store: BlobStore, cap: Capture, source_id: int,
                    url: Optional[str] = None, list_title: Optional[str] = None,
                    list_date: Optional[str] = None) -> tuple[str, Document, Parsed]:
    """`url` is the URL the list gave (the capture's may be the end of a redirect)."""
    parsed = parse_capture(store, cap)
    outcome, doc = apply_parse(s, source_id=source_id, url=url or cap.url, capture_id=cap.id, parsed=parsed,
                               list_title=list_title, list_date=list_date, seen_at=cap.fetched_at,
                               reparse=lambda ver: _reparse_quietly(s, store, ver))
    return outcome, doc, parsed


def reparse_version(s: Session, store: BlobStore, ver: DocumentVersion) -> str:
    """Parse a version's own capture again with today's parser: 'reparsed' or 'unchanged'.

    Raises ParseError / ArchiveError when the archived page cannot be parsed or read."""
    parsed = parse_capture(store, s.get(Capture, ver.capture_id))
    return record_reparse(s, s.get(Document, ver.document_id), ver, parsed)


def _reparse_quietly(s: Session, store: BlobStore, ver: DocumentVersion) -> Optional[Parsed]:
    try:
        return parse_capture(store, s.get(Capture, ver.capture_id))
    except (ParseError, ArchiveError) as exc:
        logger.warning("cannot re-parse version {} of document {}: {}", ver.version, ver.document_id, exc)
        return None
