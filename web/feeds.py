"""Atom feeds: /feeds/sources/{name}.atom and /feeds/watches/{name}.atom (schedules/feeds.py)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from schedules.feeds import source_feed, watch_feed
from scraper.config import ConfigError
from storage.db import read_session

router = APIRouter(include_in_schema=False)
ATOM = "application/atom+xml; charset=utf-8"


@router.get("/feeds/sources/{name}.atom")
def source_atom(request: Request, name: str) -> Response:
    a = request.app.state.archive
    with read_session(a.engine) as s:
        data = source_feed(s, name, str(request.url))
    if data is None:
        raise HTTPException(status_code=404, detail=f"no source {name!r} in the archive")
    return Response(data, media_type=ATOM)


@router.get("/feeds/watches/{name}.atom")
def watch_atom(request: Request, name: str) -> Response:
    a = request.app.state.archive
    with read_session(a.engine) as s:
        try:
            data = watch_feed(s, a.config, name, str(request.url))
        except ConfigError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
    return Response(data, media_type=ATOM)
