"""`xxgk export --format jsonl|csv|warc|atom`: documents (JSONL, CSV), captures (WARC 1.1), streamed; or the
Atom feed of a source or a watch."""

from __future__ import annotations

import io
import time
from enum import Enum
from pathlib import Path

import typer

from cli.context import EXIT_FAILED, ctx_obj, err_console, fail
from cli.options import check_source, since_option, until_option
from cli.output import output_file, progress_bar


class Format(str, Enum):
    jsonl = "jsonl"
    csv = "csv"
    warc = "warc"
    atom = "atom"


def export_cmd(
    ctx: typer.Context,
    fmt: Format = typer.Option(
        ..., "--format", help="jsonl | csv (documents), warc (captures) or atom (the feed of --source or --watch)."
    ),
    source: str | None = typer.Option(None, "--source", help="Only this source."),
    watch: str | None = typer.Option(None, "--watch", metavar="NAME", help="atom only: the feed of this watch."),
    since: str | None = since_option("Documents published / captures fetched (UTC day)"),
    until: str | None = until_option("Documents published / captures fetched (UTC day)"),
    bom: bool = typer.Option(
        False, "--bom", help="CSV only: start with a UTF-8 byte order mark, so Excel reads the Chinese text right."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", metavar="PATH", help="Write here (atomically) instead of stdout."
    ),
) -> None:
    """Export documents as JSON Lines or CSV (the contract's keys), every capture as a WARC 1.1 file
    (request + response records; gzipped per record unless PATH ends in .warc), or the Atom feed of a
    source's events or of what a watch matched."""
    from storage import export, warc
    from storage.db import read_session
    from storage.queries import DocFilter, count_documents

    app_ctx = ctx_obj(ctx)
    if bom and fmt is not Format.csv:
        raise fail("--bom is for --format csv only")
    if (watch is not None or fmt is Format.atom) and (fmt is not Format.atom or (source is None) == (watch is None)):
        raise fail("--format atom takes one of --source NAME or --watch NAME (and --watch is for atom only)")
    if fmt is Format.atom:
        return _atom(app_ctx, source, watch, output)
    started = time.monotonic()
    with read_session(app_ctx.archive_engine) as s:
        check_source(app_ctx, s, source)
        f = DocFilter(source=source, since=since, until=until)
        progress = progress_bar(app_ctx)
        with progress, output_file(output, binary_to_tty=fmt is Format.warc) as fh:
            if fmt is Format.warc:
                task = progress.add_task(
                    "captures", total=warc.count_captures(s, source=source, since=since, until=until)
                )
                sm = warc.write_warc(
                    s,
                    app_ctx.store,
                    fh,
                    source=source,
                    since=since,
                    until=until,
                    gzip=not str(output or "").endswith(".warc"),
                    filename=output.name if output else None,
                    progress=lambda n: progress.advance(task, n),
                )
                what = f"{sm.captures} captures ({sm.records} records, {sm.payload_bytes / 1e6:.1f} MB of bodies)"
            else:
                task = progress.add_task("documents", total=count_documents(s, f))
                text = io.TextIOWrapper(fh, encoding="utf-8-sig" if bom else "utf-8", newline="", write_through=False)
                rows = _advancing(export.iter_documents(s, f, files_text=fmt is Format.jsonl), progress, task)
                n = (export.write_jsonl if fmt is Format.jsonl else export.write_csv)(rows, text)
                text.flush()
                text.detach()
                what = f"{n} documents"
                sm = None
    err_console.print(
        f"exported {what} as {fmt.value} to {output or 'stdout'} in {time.monotonic() - started:.1f}s", highlight=False
    )
    if sm is not None and sm.skipped:
        for line in sm.skipped:
            err_console.print(f"[red]not exported:[/] {line}", highlight=False)
        raise typer.Exit(EXIT_FAILED)


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)


def _advancing(rows, progress, task):
    for row in rows:
        yield row
        progress.advance(task)


def _atom(app_ctx, source: str | None, watch: str | None, output: Path | None) -> None:
    from schedules.feeds import source_feed, watch_feed
    from scraper.config import ConfigError
    from storage.db import read_session

    with read_session(app_ctx.archive_engine) as s:
        if source is not None:
            check_source(app_ctx, s, source)
            data = source_feed(s, source)
            if data is None:
                raise fail(f"source {source!r} has not been crawled yet", EXIT_FAILED)
        else:
            try:
                data = watch_feed(s, app_ctx.config, watch)
            except ConfigError as exc:
                raise fail(str(exc)) from None
    with output_file(output) as fh:
        fh.write(data)
    err_console.print(f"exported the Atom feed of {source or watch} to {output or 'stdout'}", highlight=False)
