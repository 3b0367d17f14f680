"""/api/v1: the archive as JSON, with the keys of the CLI's --json (the same serialisers)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from schedules.overview import source_rows
from storage.db import read_session
from storage.history import timeline
from storage.queries import document_json
from web import reads
from web.schemas import DocumentFull, DocumentPage, RunList, SearchPage, SourceList, VersionList

router = APIRouter(prefix="/api/v1", tags=["archive"])


def _archive(request: Request):
    return request.app.state.archive


@router.get("/documents", response_model=DocumentPage)
def documents(
    request: Request,
    source: str | None = None,
    since: str | None = Query(None, description="Published on or after YYYY-MM-DD."),
    until: str | None = Query(None, description="Published on or before YYYY-MM-DD."),
    publisher: str | None = Query(None, description="Publisher contains this text."),
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = None,
):
    """Documents newest first (as `xxgk ls --json`); pass `next_cursor` back as `cursor` for the next page."""
    rows, nxt = reads.document_page(
        _archive(request).engine,
        source=source,
        since=since,
        until=until,
        publisher=publisher,
        limit=limit,
        cursor=cursor,
    )
    return {"documents": rows, "next_cursor": nxt}


@router.get("/documents/{index_no:path}/versions", response_model=VersionList)
def versions(request: Request, index_no: str):
    """The version timeline (as `xxgk history --json`)."""
    with read_session(_archive(request).engine) as s:
        return {"versions": timeline(s, reads.document_or_404(s, index_no))}


@router.get("/documents/{index_no:path}", response_model=DocumentFull)
def document(request: Request, index_no: str, version: int | None = Query(None, ge=1)):
    """One document with its body (as `xxgk show --json`); `index_no` may contain `/`."""
    with read_session(_archive(request).engine) as s:
        doc = reads.document_or_404(s, index_no)
        return document_json(s, doc, version=reads.version_or_404(s, doc, version).version)


@router.get("/search", response_model=SearchPage)
def search(
    request: Request,
    q: str = Query(..., description="Two or more characters."),
    source: str | None = None,
    since: str | None = None,
    publisher: str | None = None,
    limit: int = Query(20, ge=1, le=200),
    offset: int = Query(0, ge=0),
    scope: Literal["all", "pages", "files"] = Query(
        "all", alias="in", description="Search pages, files (attachments' text) or all."
    ),
):
    """Best matches first (as `xxgk search --json`), with `total` matching documents."""
    rows, total = reads.search_page(
        _archive(request).engine,
        q,
        source=source,
        since=since,
        publisher=publisher,
        limit=limit,
        offset=offset,
        scope=scope,
    )
    return {"results": rows, "total": total}


@router.get("/sources", response_model=SourceList)
def sources(request: Request):
    """Configured sources with health, last and next run (as `xxgk sources --json`)."""
    a = _archive(request)
    return {"sources": source_rows(a.engine, a.config)}


@router.get("/runs", response_model=RunList)
def runs(request: Request, source: str | None = None, limit: int = Query(50, ge=1, le=1000)):
    """The run ledger, newest first (as `xxgk runs --json`)."""
    return {"runs": reads.run_rows(_archive(request).engine, source, limit)}
