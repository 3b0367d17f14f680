"""Documents out as JSON Lines or CSV with the contract's keys, streamed a batch at a time.

Rows are read in id order by keyset pages of BATCH documents (their versions, URLs and attachments
loaded per page, the session emptied after each), so memory stays flat however large the archive.
"""
from __future__ import annotations

import csv
import json
from typing import Iterator, TextIO

from sqlmodel import Session, select

from storage.contract import document_keys
from storage.models import Document
from storage.queries import DocFilter, documents_json, filter_documents, source_names

BATCH = 500
NESTED = ("fields", "urls", "attachments")       # JSON text inside a CSV cell


def iter_documents(s: Session, f: DocFilter = DocFilter(), batch: int = BATCH) -> Iterator[dict]:
    """Every matching document's JSON (current version, with body), in id order."""
    names = source_names(s)
    last = 0
    while True:
        q = filter_documents(select(Document), f)
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
    keys = document_keys()
    writer = csv.DictWriter(out, fieldnames=keys, lineterminator="\r\n")
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow({k: (json.dumps(row[k], ensure_ascii=False) if k in NESTED else row[k]) for k in keys})
        n += 1
    return n
