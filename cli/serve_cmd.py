"""`xxgk serve`: the web interface, JSON API and metrics (web/), read-only on the database and archive."""

from __future__ import annotations

import os

import typer

from cli.context import EXIT_FAILED, ctx_obj, err_console, fail

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", min=0, max=65535, help="Port to listen on."),
    no_auth: bool = typer.Option(
        False, "--no-auth", help="Listen beyond 127.0.0.1 without XXGK_WEB_TOKEN, on purpose."
    ),
) -> None:
    """Serve the archive read-only: pages, the JSON API (/api/v1), /healthz and /metrics."""
    import uvicorn

    from storage.db import DatabaseError, open_readonly
    from web.app import Archive, create_app

    token = os.environ.get("XXGK_WEB_TOKEN") or None
    if token is None and host not in LOOPBACK and not no_auth:
        raise fail(f"listening on {host} needs a token: set XXGK_WEB_TOKEN (or give --no-auth on purpose)")
    app_ctx = ctx_obj(ctx)
    try:
        engine = open_readonly(app_ctx.config.database_url)
    except DatabaseError as exc:
        raise fail(str(exc), EXIT_FAILED)
    web = create_app(Archive(app_ctx.config, engine, app_ctx.store), token=None if no_auth else token)
    err_console.print(
        f"serving the archive on http://{host}:{port}/" + (" (token required)" if token and not no_auth else ""),
        highlight=False,
    )
    uvicorn.run(web, host=host, port=port, log_level="warning", access_log=False)


def register(app: typer.Typer) -> None:
    app.command()(serve)
