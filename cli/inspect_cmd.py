"""`xxgk sources`, `xxgk ls`, `xxgk show`: read-only views of the archive."""
from __future__ import annotations

import re
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from cli import sources_cmd
from cli.context import EXIT_FAILED, ctx_obj, fail, make_console, print_json, print_jsonl
from cli.output import stdout_bytes
from schedules.overview import source_rows
from storage.archive import ArchiveError
from storage.db import read_session
from storage.models import Capture
from storage.queries import document_json, find_document, get_version, list_documents, source_names

out = make_console()
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _since(value: Optional[str]) -> Optional[str]:
    if value and not _DATE.match(value):
        raise fail(f"--since wants a date as YYYY-MM-DD, got {value!r}")
    return value


def register(app: typer.Typer) -> None:
    sources_app = typer.Typer(help="Configured sources (the default), and `detect URL` to place a new one.")
    app.add_typer(sources_app, name="sources")
    sources_cmd.register(sources_app)

    @sources_app.callback(invoke_without_command=True)
    def sources(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="JSON Lines.")) -> None:
        """List configured sources: family, schedule, health, last run, documents."""
        if ctx.invoked_subcommand is not None:
            return
        app_ctx = ctx_obj(ctx)
        rows = source_rows(app_ctx.engine, app_ctx.config)
        if json_out:
            return print_jsonl(rows)
        table = Table(title=f"sources ({app_ctx.config.path or 'bundled catalog'})")
        for col in ("name", "family", "schedule", "next run", "health", "last run", "documents", "title"):
            table.add_column(col)
        for r in rows:
            last = r["last_run"]
            health = r["health"] + (f" ({r['health_reason']})" if r["health_reason"] else "")
            table.add_row(r["name"], r["family"] or "(detect)", r["schedule"] or "-",
                          (r["next_run"] or "-") if r["enabled"] else "disabled", health,
                          f"{last['status']} {last['started_at']}" if last else "never",
                          str(r["documents"]), r["title"] or "")
        out.print(table)

    @app.command("ls")
    def ls_(ctx: typer.Context,
            source: Optional[str] = typer.Option(None, "--source", help="Only this source."),
            since: Optional[str] = typer.Option(None, "--since", help="Published on or after YYYY-MM-DD."),
            publisher: Optional[str] = typer.Option(None, "--publisher", help="Publisher contains TEXT."),
            limit: Optional[int] = typer.Option(None, "--limit", min=1, help="At most N documents."),
            json_out: bool = typer.Option(False, "--json", help="JSON Lines, one document a line.")) -> None:
        """List archived documents, newest first."""
        app_ctx = ctx_obj(ctx)
        since = _since(since)
        with read_session(app_ctx.engine) as s:
            names = source_names(s)
            docs = list_documents(s, source=source, since=since, publisher=publisher, limit=limit)
            if json_out:
                return print_jsonl(document_json(s, d, body=False, sources=names) for d in docs)
            table = Table(show_lines=False)
            for col in ("index_no", "date", "publisher", "title", "v", "status"):
                table.add_column(col, overflow="fold")
            n = 0
            for d in docs:
                n += 1
                table.add_row(d.index_no or f"[dim](no 索引号) {d.url}[/]", d.publish_date or "",
                              d.publisher or "", (d.title or "")[:60], str(d.version),
                              "withdrawn" if d.withdrawn_at else "")
            out.print(table)
            out.print(f"{n} documents")

    @app.command()
    def show(ctx: typer.Context,
             index_no: str = typer.Argument(..., metavar="INDEX_NO", help="索引号 (or a document URL)."),
             json_out: bool = typer.Option(False, "--json", help="One JSON object."),
             raw: bool = typer.Option(False, "--raw", help="The archived bytes exactly as fetched."),
             version: Optional[int] = typer.Option(None, "--version", min=1, help="Version N (default: latest).")) -> None:
        """Show one document (fields, URLs, attachments, body), or its raw archived page."""
        app_ctx = ctx_obj(ctx)
        if json_out and raw:
            raise fail("--json and --raw exclude each other")
        with read_session(app_ctx.engine) as s:
            doc = find_document(s, index_no)
            if doc is None:
                raise fail(f"no document {index_no!r} in the archive", EXIT_FAILED)
            ver = get_version(s, doc, version)
            if ver is None:
                raise fail(f"document {index_no} has versions 1..{doc.version}, not {version}", EXIT_FAILED)
            if raw:
                cap = s.get(Capture, ver.capture_id)
                try:
                    data = app_ctx.store.get(cap.sha256)
                except ArchiveError as exc:
                    raise fail(str(exc), EXIT_FAILED)
                with stdout_bytes() as raw_out:      # bytes as archived, never re-encoded
                    raw_out.write(data)
                return
            obj = document_json(s, doc, version=ver.version)
        if json_out:
            return print_json(obj)
        _print_document(obj)


def _print_document(d: dict) -> None:
    out.print(f"[bold]{d['title'] or '(no title)'}[/]")
    table = Table.grid(padding=(0, 2))
    for key in ("index_no", "doc_no", "publisher", "publish_date", "written_date", "disclosure",
                "validity", "topic", "genre", "source", "url"):
        table.add_row(f"[dim]{key}[/]", str(d[key]) if d[key] is not None else "[dim]-[/]")
    table.add_row("[dim]version[/]", f"{d['version']} of {d['versions']}")
    table.add_row("[dim]seen[/]", f"{d['first_seen']} … {d['last_seen']}"
                  + (f"  [red]withdrawn {d['withdrawn_at']}[/]" if d["withdrawn_at"] else ""))
    out.print(table)
    for u in d["urls"][1:]:
        out.print(f"[dim]also at[/] {u}")
    for a in d["attachments"]:
        kept = f"{a['sha256']}  {a['size']} bytes" if a["sha256"] else "not archived"
        out.print(Text.assemble(("attachment ", "dim"), a["name"], f"  {a['url']}\n           ", (kept, "dim")))
    out.print()
    out.print(d.get("body_text") or "", highlight=False, markup=False)
