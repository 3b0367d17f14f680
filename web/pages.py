"""The HTML pages, server-rendered (Jinja2, autoescaped): sources, documents, a document, diff, search,
runs, fleet, and the raw archived page (sandboxed)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from schedules.overview import fleet_rows, source_rows
from storage import file_texts
from storage.archive import ArchiveError
from storage.db import read_session
from storage.history import render, timeline
from storage.queries import attachment_named, document_json, version_capture
from storage.stats import new_per_day
from web import reads
from web.render import bars, segments, side_by_side

router = APIRouter(include_in_schema=False)
PAGE = 50
HOSTILE = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}


def _page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status)


@router.get("/")
def sources(request: Request):
    a = request.app.state.archive
    rows = source_rows(a.engine, a.config)
    with read_session(a.engine) as s:
        per_day = new_per_day(s)
    for r in rows:
        r["bars"] = bars(per_day.get(r["name"], {}))
    return _page(request, "sources.html", sources=rows)


@router.get("/sources/{name}")
def source_documents(
    request: Request,
    name: str,
    publisher: str = "",
    year: str = "",
    since: str = "",
    until: str = "",
    cursor: str | None = None,
):
    if year:
        if not (year.isdigit() and len(year) == 4):
            raise reads.bad(f"year wants four digits, got {year!r}")
        since, until = since or f"{year}-01-01", until or f"{year}-12-31"
    rows, nxt = reads.document_page(
        request.app.state.archive.engine,
        source=name,
        since=since or None,
        until=until or None,
        publisher=publisher or None,
        limit=PAGE,
        cursor=cursor,
    )
    query = {"publisher": publisher, "year": year, "since": since, "until": until}
    return _page(request, "documents.html", source=name, docs=rows, next_cursor=nxt, query=query)


@router.get("/documents/{ident:path}/raw")
def raw(request: Request, ident: str, version: int | None = Query(None, ge=1)):
    """The archived bytes as fetched, in a sandbox: its scripts never run in this origin."""
    a = request.app.state.archive
    with read_session(a.engine) as s:
        doc = reads.document_or_404(s, ident)
        cap = version_capture(s, reads.version_or_404(s, doc, version))
    try:
        body = a.store.get(cap.sha256)
    except ArchiveError as exc:
        raise HTTPException(status_code=502, detail=str(exc))
    ctype = next((v for k, v in cap.headers if k.lower() == "content-type"), "application/octet-stream")
    return Response(body, media_type=ctype, headers=HOSTILE)


@router.get("/documents/{ident:path}/diff")
def diff(request: Request, ident: str, a: int | None = Query(None, ge=1), b: int | None = Query(None, ge=1)):
    with read_session(request.app.state.archive.engine) as s:
        doc = reads.document_or_404(s, ident)
        new_no = b or doc.version
        old_no = a or max(1, new_no - 1)
        old, new = reads.version_or_404(s, doc, old_no), reads.version_or_404(s, doc, new_no)
        rows = side_by_side(render(s, old), render(s, new))
        obj = document_json(s, doc, body=False)
    return _page(request, "diff.html", doc=obj, a=old_no, b=new_no, rows=rows, versions=range(1, doc.version + 1))


@router.get("/documents/{ident:path}")
def document(request: Request, ident: str, version: int | None = Query(None, ge=1)):
    with read_session(request.app.state.archive.engine) as s:
        doc = reads.document_or_404(s, ident)
        obj = document_json(s, doc, version=reads.version_or_404(s, doc, version).version)
        entries = timeline(s, doc)
        texts = file_texts.newest(s, [a["sha256"] for a in obj["attachments"] if a["sha256"]])
    return _page(request, "document.html", doc=obj, timeline=entries, texts=texts)


@router.get("/files/{sha256}/text")
def file_text(request: Request, sha256: str):
    """The text read out of an archived file (its newest extraction), pages separated by form feeds."""
    with read_session(request.app.state.archive.engine) as s:
        ft = file_texts.newest(s, [sha256.lower()]).get(sha256.lower())
    if ft is None:
        raise HTTPException(status_code=404, detail=f"no text read out of file {sha256}")
    return Response(ft.text, media_type="text/plain; charset=utf-8", headers=HOSTILE)


@router.get("/files/{sha256}")
def attachment(request: Request, sha256: str):
    """An archived attachment, as a download under its (percent-encoded) name."""
    a = request.app.state.archive
    with read_session(a.engine) as s:
        att = attachment_named(s, sha256.lower())
    if att is None:
        raise HTTPException(status_code=404, detail=f"no archived attachment {sha256}")
    try:
        body = a.store.get(att.sha256)
    except ArchiveError as exc:
        raise HTTPException(status_code=502, detail=str(exc))
    name = quote(att.name.replace("\\", "/").rsplit("/", 1)[-1] or att.sha256, safe="")
    return Response(
        body,
        media_type="application/octet-stream",
        headers={**HOSTILE, "Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.get("/search")
def search(
    request: Request,
    q: str = "",
    source: str = "",
    since: str = "",
    publisher: str = "",
    page: int = Query(1, ge=1),
    scope: Literal["all", "pages", "files"] = Query("all", alias="in"),
):
    rows: list[dict] = []
    total = 0
    if q.strip():
        rows, total = reads.search_page(
            request.app.state.archive.engine,
            q,
            source=source,
            since=since,
            publisher=publisher,
            limit=PAGE // 2,
            offset=(page - 1) * (PAGE // 2),
            scope=scope,
        )
    for r in rows:
        r["title_segments"] = segments(r["title"] or "(no title)", r["title_matches"] if r["title"] else [])
        r["snippet_segments"] = segments(r["snippet"], r["snippet_matches"])
        for f in r["files_matched"]:
            f["snippet_segments"] = segments(f["snippet"], f["snippet_matches"])
    return _page(
        request,
        "search.html",
        q=q,
        rows=rows,
        total=total,
        page=page,
        more=page * (PAGE // 2) < total,
        query={"source": source, "since": since, "publisher": publisher, "in": scope},
    )


@router.get("/runs")
def runs(request: Request, source: str = "", limit: int = Query(100, ge=1, le=1000)):
    return _page(
        request, "runs.html", runs=reads.run_rows(request.app.state.archive.engine, source, limit), source=source
    )


@router.get("/fleet")
def fleet(request: Request):
    procs, jobs = fleet_rows(request.app.state.archive.engine)
    return _page(request, "fleet.html", procs=procs, jobs=jobs)
