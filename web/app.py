"""The ASGI app: pages, the JSON API, /healthz and /metrics over one read-only database and archive."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from schedules.metrics import registry
from scraper.config import Config
from storage.archive import BlobStore
from storage.contract import shown_fields
from web import api, auth, feeds, pages
from web.render import doc_path

HERE = Path(__file__).parent


@dataclass
class Archive:
    """What every request reads: the config (sources), the database (read-only) and the blob store."""

    config: Config
    engine: Engine
    store: BlobStore


def create_app(archive: Archive, token: str | None = None) -> FastAPI:
    app = FastAPI(
        title="xxgk-archive",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        description="Read-only access to the archive: the keys of the CLI's --json.",
    )
    app.state.archive = archive
    templates = Jinja2Templates(directory=HERE / "templates")  # autoescape on for .html
    templates.env.filters["doc_path"] = doc_path
    templates.env.globals["shown_fields"] = shown_fields  # the document page's field lines
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(feeds.router)
    metrics = registry(archive.engine)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if request.url.path.startswith("/api/"):
            return await http_exception_handler(request, exc)
        return templates.TemplateResponse(
            request, "error.html", {"status": exc.status_code, "detail": exc.detail}, status_code=exc.status_code
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        try:
            with archive.engine.connect() as conn:
                sha = conn.execute(text("SELECT sha256 FROM blobs LIMIT 1")).scalar()
            if sha is not None and not archive.store.exists(sha):
                raise OSError(f"blob {sha} is not in the archive")
        except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy", named
            return PlainTextResponse(f"unhealthy: {exc}\n", status_code=503)
        return PlainTextResponse("ok\n")

    @app.get("/metrics", include_in_schema=False)
    def metrics_page() -> Response:
        return Response(generate_latest(metrics), media_type=CONTENT_TYPE_LATEST)

    if token:
        auth.protect(app, token)
    return app
