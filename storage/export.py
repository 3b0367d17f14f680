"""Documents out as JSON Lines or CSV with the contract's keys, streamed a batch at a time.

Rows are read in id order by keyset pages of BATCH documents (their versions, URLs and attachments
loaded per page, the session emptied after each), so memory stays flat however large the archive. JSON Lines rows also carry `files_text`: the newest
extracted text of each attachment (issue 17), status and error included.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import TextIO

from sqlalchemy import select
from sqlmodel import Session

from storage import file_texts
from storage.contract import document_keys
from storage.queries import DocFilter, documents_json, filter_documents, run, source_names
from storage.tables import documents

BATCH = 500
NESTED = ("fields", "urls", "attachments")  # JSON text inside a CSV cell


def iter_documents(
    s: Session, f: DocFilter = DocFilter(), batch: int = BATCH, files_text: bool = False
) -> Iterator[dict]:
    """Every matching document's JSON (current version, with body), in id order; with `files_text`, the
    text of its files too."""
    names = source_names(s)
    last = 0
    while True:
        q = filter_documents(select(documents), f)
        docs = list(run(s, q.where(documents.c.id > last).order_by(documents.c.id).limit(batch)))
        if not docs:
            return
        rows = documents_json(s, docs, sources=names)
        if files_text:
            add_files_text(s, rows)
        yield from rows
        last = docs[-1].id
        s.expunge_all()


def add_files_text(s: Session, rows: list[dict]) -> None:
    """Each row's `files_text`: per attachment (in order), the newest extraction, or status null when
    the file was not archived or not read yet."""
    texts = file_texts.newest(s, [a["sha256"] for r in rows for a in r["attachments"] if a["sha256"]])
    for row in rows:
        row["files_text"] = [file_text_json(a, texts.get(a["sha256"])) for a in row["attachments"]]


def file_text_json(att: dict, ft) -> dict:
    out = {
        "name": att["name"],
        "sha256": att["sha256"],
        "extractor": None,
        "extractor_version": None,
        "status": None,
        "pages": None,
        "page_labels": None,
        "error": None,
        "text": None,
    }
    if ft is not None:
        out.update(
            extractor=ft.extractor,
            extractor_version=ft.extractor_version,
            status=ft.status,
            pages=ft.pages,
            page_labels=ft.labels,
            error=ft.error,
            text=ft.text,
        )
    return out


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
