"""The reads behind both the pages and the API, through storage/ and schedules/ (one place each)."""

from __future__ import annotations

from fastapi import HTTPException
from sqlmodel import Session

from schedules.ledger import runs as ledger_runs
from schedules.overview import run_json
from storage import search
from storage.db import read_session
from storage.models import Document, DocumentVersion
from storage.queries import DocFilter, documents_json, find_document, get_version, list_documents, source_names
from storage.search_hits import search_documents
from storage.stamps import iso_day


def bad(message: str) -> HTTPException:
    return HTTPException(status_code=400, detail=message)


def check_date(name: str, value: str | None) -> str | None:
    try:
        return iso_day(value) if value else None
    except ValueError as exc:
        raise bad(f"{name}: {exc}") from None


def document_page(
    engine, *, source=None, since=None, until=None, publisher=None, limit: int = 50, cursor: str | None = None
) -> tuple[list[dict], str | None]:
    """A page of `ls` rows, newest first, and the cursor of the next page (None at the end)."""
    with read_session(engine) as s:
        after = None
        if cursor:
            after = s.get(Document, int(cursor)) if cursor.isdigit() else None
            if after is None:
                raise bad(f"cursor {cursor!r} is not one this API gave")
        f = DocFilter(
            source=source, since=check_date("since", since), until=check_date("until", until), publisher=publisher
        )
        docs = list(list_documents(s, f, limit=limit + 1, after=after))
        more = len(docs) > limit
        docs = docs[:limit]
        return documents_json(s, docs, body=False, sources=source_names(s)), (str(docs[-1].id) if more else None)


def document_or_404(s: Session, ident: str) -> Document:
    doc = find_document(s, ident)
    if doc is None:
        raise HTTPException(status_code=404, detail=f"no document {ident!r} in the archive")
    return doc


def version_or_404(s: Session, doc: Document, version: int | None) -> DocumentVersion:
    ver = get_version(s, doc, version)
    if ver is None:
        raise HTTPException(
            status_code=404, detail=f"document {doc.index_no or doc.url} has versions 1..{doc.version}, not {version}"
        )
    return ver


def search_page(
    engine, q: str, *, source=None, since=None, publisher=None, limit: int = 20, offset: int = 0, scope: str = "all"
) -> tuple[list[dict], int]:
    """(`search --json` rows of this page, how many documents match in all)."""
    filters = search.Filters(source=source or None, since=check_date("since", since), publisher=publisher or None)
    with read_session(engine) as s:
        try:
            rows = search_documents(s, q, filters, limit, offset, scope)
            total = offset + len(rows) if len(rows) < limit else search.count(s.connection(), q, filters, scope)
        except search.SearchError as exc:
            raise bad(str(exc))
    return rows, total


def run_rows(engine, source: str | None = None, limit: int = 50) -> list[dict]:
    return [run_json(r, name) for r, name in ledger_runs(engine, source or None, limit)]
