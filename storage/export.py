"""Documents out as JSON Lines or CSV with the contract's keys, streamed a batch at a time.

Rows are read in id order by keyset pages of BATCH documents (their versions, URLs and attachments
loaded per page, the session emptied after each), so memory stays flat however large the archive.
"""
from __future__ import annotations

import csv
import json
from typing import Iterator, Optional, TextIO

from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import Document
from storage.queries import CONTRACT_FIELDS, documents_json, filter_documents, source_names

BATCH = 500
DOCUMENT_KEYS = (*CONTRACT_FIELDS, "fields", "body_text", "url", "urls", "source", "attachments", "version",
                 "versions", "first_seen", "last_seen", "changed_at", "withdrawn_at")
NESTED = ("fields", "urls", "attachments")       # JSON text inside a CSV cell


def count_documents(s: Session, **filters: Optional[str]) -> int:
    """How many documents match `filters` (those of queries.filter_documents)."""
    q = filter_documents(select(func.count(Document.id)), **filters)
    return s.exec(q).one()


def iter_documents(s: Session, *, source: Optional[str] = None, since: Optional[str] = None,
                   batch: int = BATCH) -> Iterator[dict]:
    """Every matching document's JSON (current version, with body), in id order."""
    names = source_names(s)
    last = 0
    while True:
        q = filter_documents(select(Document), source=source, since=since)
        docs = list(s.exec(q.where(Document.id > last).order_by(Document.id).limit(batch)))
        if not docs:
            return
        yield from documents_json(s, docs, sources=names)
        last = docs[-1].id
        s.expunge_all()


def write_jsonl(rows: Iterator[dict], out: TextIO) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(rows: Iterator[dict], out: TextIO) -> int:
    """One row a document; fields, urls and attachments as JSON text; UTF-8, RFC 4180 quoting."""
    writer = csv.DictWriter(out, fieldnames=DOCUMENT_KEYS, lineterminator="\r\n")
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow({k: (json.dumps(row[k], ensure_ascii=False) if k in NESTED else row[k]) for k in DOCUMENT_KEYS})
        n += 1
    return n
