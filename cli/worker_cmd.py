"""`xxgk worker` (run queued crawls) and `xxgk fleet` (who is running, what is queued): the queue engine."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from cli.context import (
    EXIT_FAILED,
    EXIT_USAGE,
    METRICS_PORT,
    AppContext,
    ctx_obj,
    err_console,
    fail,
    make_console,
    print_jsonl,
)
from cli.times import local_time, zone_caption

if TYPE_CHECKING:
    from schedules.queue import CrawlQueue

out = make_console()
ROLES = ("daemon", "worker")


def open_queue(app: AppContext) -> CrawlQueue:
    """The queue for enqueuing (daemon, trigger); a clear error when it cannot be used."""
    from schedules.queue import CrawlQueue, QueueError
    from schedules.runner import new_holder

    try:
        return CrawlQueue(app.engine, new_holder("enqueue")).open()
    except QueueError as exc:  # the queue cannot be used with this setup: a config error
        raise fail(str(exc), EXIT_USAGE)
    except Exception as exc:  # noqa: BLE001 - psycopg/procrastinate errors, named
        raise fail(f"cannot open the crawl queue: {exc}", EXIT_FAILED)


def enqueue_trigger(app: AppContext, name: str, full: bool) -> None:
    """`xxgk trigger` with engine = "queue": straight into the queue, no daemon needed."""
    from scraper.crawl import ensure_source

    queue = open_queue(app)
    try:
        src = app.config.source(name)
        outcome = queue.enqueue(
            src, ensure_source(app.engine, src), trigger="trigger", full=full, reason="xxgk trigger"
        )
    finally:
        queue.close()
    if outcome.startswith("skipped"):
        raise fail(f"{name}: {outcome}", EXIT_FAILED)
    err_console.print(f"{name}: {outcome}; {_workers_note(app)}")


def _workers_note(app: AppContext) -> str:
    from schedules.beats import live

    workers = live(app.engine, "worker")
    return (
        f"{len(workers)} worker(s) running"
        if workers
        else "[yellow]no worker is running:[/] start one with `xxgk worker`"
    )


def enqueue_reparses(app: AppContext, names: list[str], json_out: bool) -> None:
    """`xxgk reparse --queue`: one job a source, run by whichever worker is free (at most one waiting a
    source; serialised with the source's crawls by the same lock)."""
    queue = open_queue(app)
    try:
        jobs = {name: queue.enqueue_reparse(name) for name in names}
    finally:
        queue.close()
    if json_out:
        return print_jsonl([{"source": n, "job": j, "queued": j is not None} for n, j in jobs.items()])
    for name, job in jobs.items():
        err_console.print(
            f"{name}: "
            + (f"re-parse queued as job {job}" if job is not None else "a re-parse of this source is already queued"),
            highlight=False,
        )
    err_console.print(_workers_note(app))


def worker(
    ctx: typer.Context,
    concurrency: int = typer.Option(
        1, "--concurrency", "-c", min=1, max=256, help="Jobs (source crawls) this worker runs at once."
    ),
    metrics_port: int | None = METRICS_PORT,
) -> None:
    """Run queued crawls (engine = "queue") until SIGTERM/SIGINT, on any machine reaching the database and archive."""
    from schedules.metrics import serve_metrics
    from schedules.queue import QueueError
    from schedules.worker import Worker
    from scraper.config import load_config

    app_ctx = ctx_obj(ctx)
    cfg_path = app_ctx.config_path
    _ = app_ctx.config, app_ctx.store  # fail early on a bad config or archive
    if metrics_port is not None:
        serve_metrics(app_ctx.engine, metrics_port)
    import asyncio

    try:
        code = asyncio.run(Worker(lambda: load_config(cfg_path), app_ctx.engine, app_ctx.store, concurrency).run())
    except QueueError as exc:
        raise fail(str(exc), EXIT_USAGE)
    raise typer.Exit(code)


def fleet(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="JSON Lines: one line per process, then the queue."),
    check: str | None = typer.Option(
        None,
        "--check",
        metavar="ROLE",
        help="Exit 0 only if a live ROLE (daemon|worker) runs on this host (a container healthcheck).",
    ),
) -> None:
    """The running daemon and workers (last heartbeat, sources they crawl now) and the queue's jobs by status."""
    from schedules.beats import BEAT_FRESH, live
    from schedules.overview import fleet_rows

    app_ctx = ctx_obj(ctx)
    if check is not None and check not in ROLES:
        raise fail(f"--check takes one of {', '.join(ROLES)}, not {check!r}")
    engine = app_ctx.archive_engine
    if check is not None:
        if not live(engine, check, host=socket.gethostname()):
            raise fail(f"no live {check} on {socket.gethostname()}", EXIT_FAILED)
        return
    procs, jobs = fleet_rows(app_ctx.engine)
    if json_out:
        print_jsonl([*procs, {"queue": jobs}])
        return
    if not procs:
        out.print(
            f"no daemon or worker is running (none has beaten in the last {BEAT_FRESH.total_seconds():.0f} s)",
            highlight=False,
        )
    tz = app_ctx.config.settings.timezone
    table = Table(caption=zone_caption(tz), caption_justify="left")
    for col in ("process", "host", "pid", "started", "last beat", "crawling"):
        table.add_column(col, no_wrap=col in ("started", "last beat"), overflow="fold")
    for p in procs:
        table.add_row(
            p["holder"],
            p["host"],
            str(p["pid"]),
            local_time(p["started_at"], tz),
            local_time(p["heartbeat_at"], tz),
            ", ".join(p["crawling"]),
        )
    if procs:
        out.print(table)
    for task, counts in sorted(jobs.items()):
        out.print(f"{task}: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))


def register(app: typer.Typer) -> None:
    app.command()(worker)
    app.command()(fleet)
