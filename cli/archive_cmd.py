"""`xxgk verify`, `xxgk reparse`, `xxgk stats`: prove, re-read and count the archive."""

from __future__ import annotations

import typer
from rich.table import Table

from cli.context import EXIT_FAILED, ctx_obj, err_console, fail, make_console, print_json
from cli.extract_cmd import outdated_files, run_files
from cli.options import check_source
from cli.output import progress_bar
from cli.worker_cmd import enqueue_reparses

out = make_console()


def _mb(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:,.1f} MB"


def verify(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="One JSON object.")) -> None:
    """Re-hash every archived blob and check database <-> archive (read-only). Exit 1 naming each fault."""
    from storage.db import read_session
    from storage.verify import total_blobs
    from storage.verify import verify as verify_archive

    app_ctx = ctx_obj(ctx)
    with read_session(app_ctx.archive_engine) as s:
        progress = progress_bar(app_ctx)
        with progress:
            task = progress.add_task("blobs", total=total_blobs(s))
            report = verify_archive(s, app_ctx.store, progress=lambda n: progress.advance(task, n))
    if json_out:
        print_json(report.as_dict())
    else:
        for fault in report.faults:
            out.print(f"[red]FAULT[/] {fault}", highlight=False)
        colour = "green" if report.ok else "red"
        out.print(
            f"[{colour}]{'ok' if report.ok else f'{len(report.faults)} faults'}[/]: "
            f"{report.blobs_checked} blobs re-hashed ({_mb(report.bytes_checked)}), "
            f"{report.files_checked} files in the store, {report.link_checks} kinds of row links checked",
            highlight=False,
        )
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


def reparse(
    ctx: typer.Context,
    source: str | None = typer.Option(None, "--source", help="Only this source."),
    queue: bool = typer.Option(
        False,
        "--queue",
        help='Queue one re-parse job a source for the `xxgk worker`s (engine = "queue") instead of running here.',
    ),
    files: bool = typer.Option(
        False,
        "--files",
        help="Instead: read again the text of files an older extractor version "
        "read (and those never read); the older text is kept.",
    ),
    every: bool = typer.Option(
        False, "--all", help="Parse again also the versions today's parser already read (by default skipped)."
    ),
    json_out: bool = typer.Option(False, "--json", help="The summary as one JSON object."),
) -> None:
    """Re-run today's parser over the archived pages (no network). A different parse is recorded as a
    re-parse of the same version, never as a new version. Exit 1 when some page no longer parses."""
    from schedules.hold import hold_sources
    from schedules.runner import EXIT_BUSY, SourceBusy
    from scraper.reparse import reparse_archive, source_ids, total
    from storage.db import read_session
    from storage.queries import source_names

    app_ctx = ctx_obj(ctx)
    if files:
        if source or queue:
            raise fail("--files reads every file again (files are shared by sources): no --source or --queue")
        run_files(app_ctx, outdated_files(app_ctx), None, json_out, "re-reading files")
        return
    engine = app_ctx.archive_engine
    with read_session(engine) as s:
        check_source(app_ctx, s, source)
        try:
            ids = source_ids(engine, source)
        except KeyError as exc:  # configured, never crawled
            raise fail(str(exc.args[0]))
        names = {i: n for i, n in source_names(s).items() if i in ids}
    if queue:
        return enqueue_reparses(app_ctx, sorted(names.values()), json_out)
    try:
        with hold_sources(engine, names, "reparse", app_ctx.config.settings.lease_seconds) as keep:
            progress = progress_bar(app_ctx)
            with progress:
                task = progress.add_task("re-parsing", total=total(engine, ids))

                def step(n: int) -> None:
                    progress.advance(task, n)
                    keep()

                summary = reparse_archive(engine, app_ctx.store, ids, progress=step, every=every)
    except SourceBusy as busy:
        err_console.print(f"[yellow]{busy}[/]: try again when it is done", highlight=False)
        raise typer.Exit(EXIT_BUSY)
    if json_out:
        print_json(summary.as_dict())
    else:
        out.print(
            f"parser {summary.parser_version}: {summary.versions} versions read "
            f"({summary.already_current} already read by it, not parsed again), "
            f"{summary.reparsed} re-parsed (same version, previous parse kept), {summary.unchanged} unchanged, "
            f"{summary.errors} errors; failed pages: {summary.recovered} now documents, "
            f"{summary.still_failing} still failing",
            highlight=False,
        )
        if summary.same_as_previous:
            out.print(
                f"{summary.same_as_previous} re-parsed versions now read the same as the version "
                "before them (their difference came from the old parser)",
                highlight=False,
            )
    for p in summary.problems[:20]:
        err_console.print(f"[red]error:[/] {p}", highlight=False)
    if summary.errors:
        raise typer.Exit(EXIT_FAILED)


def stats(
    ctx: typer.Context,
    source: str | None = typer.Option(
        None, "--source", help="Only this source (its documents, captures and the blobs they name)."
    ),
    json_out: bool = typer.Option(False, "--json", help="One JSON object."),
) -> None:
    """Documents by source, publisher and year; versions; withdrawn; archive size and dedupe savings."""
    from storage.db import read_session
    from storage.queries import source_names
    from storage.stats import archive_stats

    app_ctx = ctx_obj(ctx)
    with read_session(app_ctx.archive_engine) as s:
        ids = {name: i for i, name in source_names(s).items()}
        # a configured source not crawled yet has nothing in the archive: no row has id 0
        st = archive_stats(s, None if check_source(app_ctx, s, source) is None else ids.get(source, 0))
    if json_out:
        return print_json(st)
    _print_stats(st)


def register(app: typer.Typer) -> None:
    app.command()(verify)
    app.command()(reparse)
    app.command()(stats)


def _print_stats(st: dict) -> None:
    a = st["archive"]
    grid = Table.grid(padding=(0, 2))
    rows = [
        (
            "documents",
            f"{st['documents']:,} ({st['withdrawn']:,} withdrawn, {st['without_index_no']:,} without 索引号)",
        ),
        (
            "versions",
            f"{st['versions']:,} ({st['documents_changed']:,} documents changed, {st['reparses']:,} re-parses)",
        ),
        ("captures", f"{st['captures']:,} fetched, {_mb(a['fetched_bytes'])}"),
        ("archive", f"{a['blobs']:,} distinct blobs, {_mb(a['raw_bytes'])} raw, {_mb(a['stored_bytes'])} on disk"),
        ("saved", f"{_mb(a['dedupe_saved_bytes'])} by dedupe, {_mb(a['compression_saved_bytes'])} by compression"),
        ("database", _mb(st["database_bytes"])),
        ("search", st["search"]),
    ]
    for k, v in rows:
        grid.add_row(f"[dim]{k}[/]", v)
    out.print(grid)
    for title, data, cols in (
        ("by source", st["by_source"], ("source", "documents", "withdrawn", "versions")),
        ("by year", st["by_year"], ("year", "documents")),
        ("by publisher (top 20)", dict(list(st["by_publisher"].items())[:20]), ("publisher", "documents")),
    ):
        table = Table(title=title, title_justify="left")
        for c in cols:
            table.add_column(c, justify="left" if c in ("source", "year", "publisher") else "right")
        for k, v in data.items():
            table.add_row(k, *([f"{v[c]:,}" for c in cols[1:]] if isinstance(v, dict) else [f"{v:,}"]))
        out.print(table)
