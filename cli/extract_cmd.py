"""`xxgk extract`: read the text of archived files no extractor has read yet (crawls do it beside each
run; this catches up, e.g. after `extract_files = false` or an interrupted run). `xxgk reparse --files`
reads again those an older extractor version read (cli/archive_cmd.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from cli.context import ctx_obj, err_console, make_console, print_json
from cli.output import progress_bar

if TYPE_CHECKING:  # the extraction machinery loads when files are read
    from scraper.extract.stage import ExtractSummary

out = make_console()


def extract(
    ctx: typer.Context,
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most N files."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, max=64, help="Processes reading files (default: settings.extract_workers)."
    ),
    json_out: bool = typer.Option(False, "--json", help="The summary as one JSON object."),
) -> None:
    """Read the text out of every archived attachment not read yet (PDF, Word, WPS, OFD, spreadsheets, text,
    zip), from the archive, never the network. A file that cannot be read is recorded with its error."""
    from scraper.extract.stage import unread

    app_ctx = ctx_obj(ctx)
    run_files(app_ctx, unread(app_ctx.engine, limit), workers, json_out, "reading files")


def run_files(app_ctx, items: list[tuple[str, str]], workers: int | None, json_out: bool, what: str) -> ExtractSummary:
    """Read `items` with a progress bar; print the summary (JSON or one line, then the first errors)."""
    from scraper.extract.stage import FileTextStage

    stage = FileTextStage(app_ctx.engine, app_ctx.store, workers or app_ctx.config.settings.extract_workers)
    progress = progress_bar(app_ctx)
    try:
        with progress:
            task = progress.add_task(what, total=len(items))
            sm = stage.run(items, progress=lambda n: progress.advance(task, n))
    finally:
        stage.close()
    if json_out:
        print_json(sm.as_dict())
    else:
        out.print(sm.line() + (f" in {sm.seconds:.1f}s" if sm.files else ""), highlight=False, markup=False)
    for p in sm.problems[:20]:
        err_console.print(f"[yellow]not read:[/] {p}", highlight=False)
    return sm


def outdated_files(app_ctx) -> list[tuple[str, str]]:
    """Files an older extractor version read, then those never read."""
    from scraper.extract.stage import outdated, unread

    return outdated(app_ctx.engine) + unread(app_ctx.engine)


def register(app: typer.Typer) -> None:
    app.command("extract")(extract)
