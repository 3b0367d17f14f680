"""`xxgk watches` (each watch, its deliveries), `xxgk watches test NAME`, `xxgk events` (the outbox ledger)."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from cli.context import EXIT_FAILED, ctx_obj, err_console, fail, make_console, print_jsonl

out = make_console()
NEVER: dict[str, Any] = {
    "last_delivery": None,
    "delivered": 0,
    "pending": 0,
    "failing": 0,
    "last_error": None,
    "events_waiting": 0,
}


def watches(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="JSON Lines.")) -> None:
    """List watches: what they match, where they notify, their last delivery, pending and failing messages."""
    from rich import box

    from scraper.config import redact
    from storage.db import read_session
    from storage.outbox_reads import watch_summary

    if ctx.invoked_subcommand is not None:
        return
    app_ctx = ctx_obj(ctx)
    rows: list[dict[str, Any]] = []
    for w in app_ctx.config.watches:
        state = NEVER
        if not app_ctx.missing_archive():
            with read_session(app_ctx.engine) as s:
                state = watch_summary(s, w.name)
        rows.append(
            {
                "name": w.name,
                "query": w.query,
                "sources": w.sources,
                "events": w.events,
                "notify": [redact(u) for u in w.notify],
                "digest": w.digest,
                **state,
            }
        )
    if json_out:
        return print_jsonl(rows)
    if not rows:
        err_console.print("no watches configured (add [[watches]] to the config: see README)")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for col in ("name", "matches", "notify", "last delivery", "delivered", "pending", "failing"):
        table.add_column(col, overflow="fold")
    for r in rows:
        what = (
            f"{', '.join(r['events'])} · {', '.join(r['sources'] or ['every source'])}"
            + (f" · {r['query']}" if r["query"] else "")
            + ("" if r["digest"] == "off" else f" · digest {r['digest']}")
        )
        table.add_row(
            r["name"],
            what,
            "\n".join(r["notify"]),
            r["last_delivery"] or "never",
            str(r["delivered"]),
            str(r["pending"]),
            f"[red]{r['failing']}[/]" if r["failing"] else "0",
        )
    out.print(table)
    for r in rows:
        if r["last_error"]:
            err_console.print(f"[yellow]{r['name']}[/]: last error: {r['last_error']}", highlight=False)


def send_sample(
    ctx: typer.Context, name: str = typer.Argument(..., metavar="NAME", help="A configured watch.")
) -> None:
    """Send a sample message to each of the watch's notify URLs now; exit 1 if one did not take it."""
    from schedules.notify import send_test
    from scraper.config import ConfigError

    try:
        watch = ctx_obj(ctx).config.watch(name)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    results = send_test(watch)
    for url, error in results:
        if error is None:
            out.print(f"sent to {url}", highlight=False)
        else:
            err_console.print(f"[red]not sent[/] to {error}", highlight=False)
    if any(error for _url, error in results):
        raise typer.Exit(EXIT_FAILED)


def events(
    ctx: typer.Context,
    watch: str | None = typer.Option(None, "--watch", metavar="NAME", help="Only what this watch took."),
    limit: int = typer.Option(1000, "--limit", min=1, help="At most N events, newest first."),
    json_out: bool = typer.Option(False, "--json", help="JSON Lines."),
) -> None:
    """The outbox ledger: each event (new, changed, withdrawn, health) and its deliveries per watch."""
    from rich import box

    from scraper.config import ConfigError
    from storage.db import read_session
    from storage.outbox_reads import ledger

    app_ctx = ctx_obj(ctx)
    if watch is not None:
        try:
            app_ctx.config.watch(watch)
        except ConfigError as exc:
            raise fail(str(exc)) from None
    with read_session(app_ctx.archive_engine) as s:
        rows = ledger(s, watch, limit)
    if json_out:
        return print_jsonl(rows)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for col in ("id", "at", "source", "event", "索引号 / title", "deliveries"):
        table.add_column(col, overflow="fold")
    for r in rows:
        what = (
            f"{r['health'].get('from')} → {r['health'].get('to')}"
            if r["kind"] == "health"
            else f"{r['index_no'] or r['url']}\n{r['title'] or ''}"
        )
        sent = (
            ", ".join(
                f"{d['watch']} {d['status']}" + (f" ({d['tries']} tries)" if d["tries"] > 1 else "")
                for d in r["deliveries"]
            )
            or "—"
        )
        kind = r["kind"] + (" (first archive)" if r["first_archive"] else "")
        table.add_row(str(r["event_id"]), r["created_at"], r["source"], kind, what, sent)
    out.print(table)


def register(app: typer.Typer) -> None:
    watches_app = typer.Typer(help="Configured watches (the default), and `test NAME` to send a sample message.")
    app.add_typer(watches_app, name="watches")
    watches_app.callback(invoke_without_command=True)(watches)
    watches_app.command("test")(send_sample)
    app.command()(events)
