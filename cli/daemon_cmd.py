"""`xxgk daemon`, `xxgk trigger`, `xxgk runs`: the schedules, from the command line."""

from __future__ import annotations

import typer
from rich import box
from rich.table import Table

from cli.context import METRICS_PORT, ctx_obj, err_console, fail, make_console, print_jsonl
from cli.options import check_source
from cli.times import local_time, zone_caption
from cli.worker_cmd import enqueue_trigger, open_queue

out = make_console()


def daemon(ctx: typer.Context, metrics_port: int | None = METRICS_PORT) -> None:
    """Run every enabled source on its schedule until SIGTERM/SIGINT (graceful stop); SIGHUP reloads."""
    from schedules.daemon import Daemon
    from schedules.metrics import serve_metrics
    from scraper.config import load_config

    app_ctx = ctx_obj(ctx)
    if metrics_port is not None:
        serve_metrics(app_ctx.engine, metrics_port)
    cfg_path = app_ctx.config_path

    def load():
        return load_config(cfg_path)

    _ = app_ctx.config  # fail early on a bad config
    queue = open_queue(app_ctx) if app_ctx.config.settings.engine == "queue" else None
    import asyncio

    try:
        code = asyncio.run(Daemon(load, app_ctx.engine, app_ctx.store, queue).run())
    finally:
        if queue:
            queue.close()
    raise typer.Exit(code)


def trigger(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME"),
    full: bool = typer.Option(False, "--full", help="Ask for a full crawl."),
) -> None:
    """Ask a running daemon to crawl NAME now (returns at once); with engine = "queue", queue it for the workers."""
    from schedules.daemon import daemon_alive, request_trigger
    from scraper.config import ConfigError

    app_ctx = ctx_obj(ctx)
    try:
        app_ctx.config.source(name)
    except ConfigError as exc:
        raise fail(str(exc))
    if app_ctx.config.settings.engine == "queue":
        return enqueue_trigger(app_ctx, name, full)
    req = request_trigger(app_ctx.engine, name, full)
    beat = daemon_alive(app_ctx.engine)
    if beat:
        err_console.print(f"queued crawl of {name} (request {req}); daemon {beat.holder} starts it within 2 s")
    else:
        err_console.print(
            f"[yellow]queued crawl of {name} (request {req}), but no daemon is running:[/] "
            f"it starts when `xxgk daemon` does; `xxgk crawl {name}` runs it now"
        )


def runs(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, metavar="[NAME]"),
    limit: int = typer.Option(50, "--limit", min=1, help="At most N runs."),
    json_out: bool = typer.Option(False, "--json", help="JSON Lines, newest first."),
) -> None:
    """The run ledger: every run and every scheduled slot (ran, coalesced, skipped), newest first."""
    from schedules.ledger import runs as ledger_runs
    from schedules.overview import run_json
    from storage.db import read_session

    app_ctx = ctx_obj(ctx)
    engine = app_ctx.archive_engine
    with read_session(engine) as s:
        check_source(app_ctx, s, name)
    rows = ledger_runs(engine, name, limit)
    if json_out:
        return print_jsonl(run_json(r, src) for r, src in rows)
    tz = app_ctx.config.settings.timezone
    table = Table(
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        collapse_padding=True,
        show_edge=False,
        caption=zone_caption(tz),
        caption_justify="left",
    )
    for col in ("id", "source", "trigger", "mode", "status", "started", "new", "chg", "err", "note"):
        table.add_column(
            col,
            no_wrap=col != "note",
            overflow="fold",
            justify="right" if col in ("id", "new", "chg", "err") else "left",
        )
    for r, src in rows:
        note = r.reason or (r.error or "").split("\n")[0]
        status = r.status + (f" {r.health}" if r.health and r.health != "OK" else "")
        when = (
            local_time(r.started_at, tz)
            if r.status not in ("skipped", "coalesced", "queued")
            else f"slot {local_time(r.scheduled_for, tz)}"
            if r.scheduled_for
            else local_time(r.started_at, tz)
        )
        table.add_row(
            str(r.id),
            src,
            r.trigger,
            "full" if r.mode == "full" else "incr",
            status,
            when,
            str(r.new),
            str(r.changed),
            str(r.errors),
            note,
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command()(daemon)
    app.command()(trigger)
    app.command()(runs)
