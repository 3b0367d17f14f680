"""`xxgk sources`, `xxgk ls`, `xxgk show`: read-only views of the archive."""

from __future__ import annotations

from itertools import islice

import typer
from rich.table import Table
from rich.text import Text

from cli import sources_cmd
from cli.context import EXIT_FAILED, ctx_obj, fail, make_console, print_json, print_jsonl
from cli.options import (
    changed_since_option,
    check_source,
    document_or_fail,
    local_datetime,
    since_option,
    until_option,
    version_or_fail,
)
from cli.output import stdout_bytes
from cli.times import local_time, zone_caption

out = make_console()
LS_DEFAULT_LIMIT = 50
LS_JSON_BATCH = 500  # documents read together by `ls --json`


def retry_note(retry: dict) -> str:
    parts = [f"{retry['waiting']} to retry"] if retry["waiting"] else []
    parts += [f"{retry['given_up']} given up"] if retry["given_up"] else []
    return f" ({', '.join(parts)})" if parts else ""


def sources(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="JSON Lines.")) -> None:
    """List configured sources: family, schedule, health, last run, documents."""
    from rich import box

    from schedules.overview import source_rows

    if ctx.invoked_subcommand is not None:
        return
    app_ctx = ctx_obj(ctx)
    tz = app_ctx.config.settings.timezone
    rows = source_rows(None if app_ctx.missing_archive() else app_ctx.engine, app_ctx.config)  # None: never crawled
    if json_out:
        return print_jsonl(rows)
    table = Table(
        title=f"sources ({app_ctx.config.path or 'bundled catalog'})",
        caption=zone_caption(tz),
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        show_edge=False,
    )
    for col in ("name / family", "schedule / next", "health", "last run", "docs", "title"):
        table.add_column(
            col,
            no_wrap=col not in ("health", "title"),
            overflow="fold",
            max_width=24 if col in ("health", "title") else None,
        )
    for r in rows:
        last = r["last_run"]
        health = r["health"] + (f" ({r['health_reason']})" if r["health_reason"] else "")
        when = (local_time(r["next_run"], tz) or "-") if r["enabled"] else "disabled"
        table.add_row(
            f"{r['name']}\n{r['family'] or '(detect)'}",
            f"{r['schedule'] or '-'}\n{when}",
            health,
            f"{last['status']}\n{local_time(last['started_at'], tz)}" if last else "never",
            str(r["documents"]) + retry_note(r["retry_list"]),
            r["title"] or "",
        )
    out.print(table)
    for r in rows:
        for d in r["retry_list"]["given_up_documents"]:
            out.print(
                f"{r['name']}: given up after {d['tries']} tries: {d['reason']}: {d['url']}",
                highlight=False,
                markup=False,
            )


def ls_(
    ctx: typer.Context,
    source: str | None = typer.Option(None, "--source", help="Only this source."),
    since: str | None = since_option(),
    until: str | None = until_option(),
    changed_since: str | None = changed_since_option(),
    publisher: str | None = typer.Option(None, "--publisher", help="Publisher contains TEXT."),
    limit: int | None = typer.Option(
        None,
        "--limit",
        min=0,
        help=f"At most N documents (default {LS_DEFAULT_LIMIT} in the table, all with --json; 0: all).",
    ),
    json_out: bool = typer.Option(False, "--json", help="JSON Lines, one document a line."),
) -> None:
    """List archived documents, newest first by publish date."""
    from storage.doc_reads import DocFilter, count_documents, documents_json, list_documents, source_names

    app_ctx = ctx_obj(ctx)
    if limit is None and not json_out:
        limit = LS_DEFAULT_LIMIT
    with app_ctx.document_reads() as r:
        f = DocFilter(
            source=check_source(app_ctx, r, source),
            since=since,
            until=until,
            publisher=publisher,
            changed_since=local_datetime(changed_since, app_ctx.config.settings.timezone),
        )
        names = source_names(r)
        docs = list_documents(r, f, limit=limit)
        if json_out:  # a batch of documents in four queries, not four queries a document
            while batch := list(islice(docs, LS_JSON_BATCH)):
                print_jsonl(documents_json(r, batch, body=False, sources=names))
            return
        from rich.table import Table

        table = Table(show_lines=False)
        for col in ("index_no", "date", "publisher", "title", "v", "status"):
            table.add_column(col, overflow="fold")
        n = 0
        for d in docs:
            n += 1
            table.add_row(
                d.index_no or f"[dim](no 索引号) {d.url}[/]",
                d.publish_date or "",
                d.publisher or "",
                (d.title or "")[:60],
                str(d.version),
                "withdrawn" if d.withdrawn_at else "",
            )
        out.print(table)
        more = count_documents(r, f) - n if limit and n == limit else 0
        out.print(f"{n} documents" + (f"; {more} more (--limit 0 shows all)" if more else ""), highlight=False)


def show(
    ctx: typer.Context,
    index_no: str = typer.Argument(..., metavar="INDEX_NO", help="索引号 (or a document URL)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object."),
    raw: bool = typer.Option(False, "--raw", help="The archived bytes exactly as fetched."),
    version: int | None = typer.Option(None, "--version", min=1, help="Version N (default: latest)."),
) -> None:
    """Show one document (fields, URLs, attachments, body), or its raw archived page."""
    from storage.doc_reads import document_json, version_capture

    app_ctx = ctx_obj(ctx)
    if json_out and raw:
        raise fail("--json and --raw exclude each other")
    with app_ctx.document_reads() as r:
        doc = document_or_fail(r, index_no)
        ver = version_or_fail(r, doc, version, f"document {index_no}")
        if raw:
            from storage.archive import ArchiveError

            cap = version_capture(r, ver)
            try:
                data = app_ctx.store.get(cap.sha256)
            except ArchiveError as exc:
                raise fail(str(exc), EXIT_FAILED)
            with stdout_bytes() as raw_out:  # bytes as archived, never re-encoded
                raw_out.write(data)
            return
        obj = document_json(r, doc, version=ver.version)
    if json_out:
        return print_json(obj)
    _print_document(obj, app_ctx.config.settings.timezone)


def register(app: typer.Typer) -> None:
    sources_app = typer.Typer(help="Configured sources (the default), and `detect URL` to place a new one.")
    app.add_typer(sources_app, name="sources")
    sources_app.callback(invoke_without_command=True)(sources)
    sources_cmd.register(sources_app)
    app.command("ls")(ls_)
    app.command()(show)


def _print_document(d: dict, tz: str) -> None:
    out.print(f"[bold]{d['title'] or '(no title)'}[/]")
    table = Table.grid(padding=(0, 2))
    from storage.contract import shown_fields

    for key in (*shown_fields(), "source", "url"):
        table.add_row(f"[dim]{key}[/]", str(d[key]) if d[key] is not None else "[dim]-[/]")
    table.add_row("[dim]version[/]", f"{d['version']} of {d['versions']}")
    table.add_row(
        "[dim]seen[/]",
        f"{local_time(d['first_seen'], tz)} … {local_time(d['last_seen'], tz)} ({tz})"
        + (f"  [red]withdrawn {local_time(d['withdrawn_at'], tz)}[/]" if d["withdrawn_at"] else ""),
    )
    out.print(table)
    for u in d["urls"][1:]:
        out.print(f"[dim]also at[/] {u}")
    for a in d["attachments"]:
        kept = f"{a['sha256']}  {a['size']} bytes" if a["sha256"] else "not archived"
        out.print(Text.assemble(("attachment ", "dim"), a["name"], f"  {a['url']}\n           ", (kept, "dim")))
    out.print()
    out.print(d.get("body_text") or "", highlight=False, markup=False)
