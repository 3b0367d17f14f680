"""`xxgk copy-to`: move the archive to bigger parts (SQLite -> PostgreSQL, folder -> S3) or back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cli.context import EXIT_FAILED, AppContext, ctx_obj, err_console, fail, make_console, print_json
from cli.output import progress_bar

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from storage.transfer import TransferReport

out = make_console()


def _copy_rows(app: AppContext, url: str) -> tuple[Engine, TransferReport]:
    from storage.db import DatabaseError, open_database
    from storage.transfer import TransferError, copy_database, count_rows

    try:
        target = open_database(url, outage_seconds=0)  # a target given now that does not answer: say so now
    except DatabaseError as exc:
        raise fail(str(exc), EXIT_FAILED)
    progress = progress_bar(app)
    with progress:
        task = progress.add_task("rows", total=sum(count_rows(app.engine).values()))
        try:
            return target, copy_database(app.engine, target, step=lambda n: progress.advance(task, n))
        except TransferError as exc:
            raise fail(str(exc), EXIT_FAILED)


def _copy_blobs(app: AppContext, url: str, known_by: Engine) -> TransferReport:
    from storage.archive import ArchiveError, open_archive
    from storage.transfer import blob_names, copy_archive

    try:
        target = open_archive(url)
    except (ArchiveError, OSError) as exc:
        raise fail(f"cannot open archive {url}: {exc}", EXIT_FAILED)
    total, names = blob_names(known_by)
    progress = progress_bar(app)
    with progress:
        task = progress.add_task("blobs", total=total)
        return copy_archive(app.store, target, names, step=lambda n: progress.advance(task, n))


def copy_to(
    ctx: typer.Context,
    database: str | None = typer.Option(
        None,
        "--database",
        metavar="URL",
        help="An empty database to copy every row into (postgresql+psycopg://… or sqlite:///…).",
    ),
    archive: str | None = typer.Option(
        None,
        "--archive",
        metavar="URL",
        help="A store to copy every blob into (s3://BUCKET/PREFIX or file://PATH); blobs already there are left alone.",
    ),
    json_out: bool = typer.Option(False, "--json", help="One JSON object."),
) -> None:
    """Copy the archive (rows, blobs or both) to another database and store, then point the config at
    them. Read-only here; run it while nothing crawls (a crawl after the copy is not in the copy)."""
    from schedules.beats import live

    app_ctx = ctx_obj(ctx)
    if not database and not archive:
        raise fail("say where to: --database URL and/or --archive URL")
    running = live(app_ctx.archive_engine)
    if running:  # the copy is a consistent snapshot; what they archive from now on is not in it
        err_console.print(
            f"[yellow]warning:[/] {len(running)} daemon/worker process(es) running "
            f"({', '.join(p.holder for p in running)}): what they archive after this "
            "moment is not in the copy; stop them first to move everything",
            highlight=False,
        )
    result: dict = {}
    known_by = app_ctx.engine
    if database:
        known_by, rows = _copy_rows(app_ctx, database)  # blobs then follow the rows copied
        result["database"] = {"tables": rows.tables, "searchable": rows.searchable}
    if archive:
        blobs = _copy_blobs(app_ctx, archive, known_by)
        result["archive"] = {
            k: getattr(blobs, k) for k in ("blobs_copied", "blobs_present", "bytes_copied", "problems")
        }
    if json_out:
        print_json(result)
    else:
        _print(result, database, archive, app_ctx.config.path)
    if result.get("archive", {}).get("problems"):
        raise typer.Exit(EXIT_FAILED)


def register(app: typer.Typer) -> None:
    app.command("copy-to")(copy_to)


def _print(result: dict, database: str | None, archive: str | None, config: Path | None) -> None:
    if "database" in result:
        db = result["database"]
        out.print(
            f"database: {sum(db['tables'].values()):,} rows in {len(db['tables'])} tables copied "
            f"({db['tables'].get('documents', 0):,} documents, {db['searchable']:,} searchable)",
            highlight=False,
        )
    if "archive" in result:
        ar = result["archive"]
        out.print(
            f"archive: {ar['blobs_copied']:,} blobs copied ({ar['bytes_copied'] / 1e6:,.1f} MB stored), "
            f"{ar['blobs_present']:,} already there",
            highlight=False,
        )
        for problem in ar["problems"][:20]:
            err_console.print(f"[red]error:[/] {problem}", highlight=False)
    problems = result.get("archive", {}).get("problems")
    if problems:
        err_console.print(
            f"[red]the copy is incomplete:[/] {len(problems)} blob(s) not copied; keep using the "
            "current archive (do not switch to the copy), mend or accept them (`xxgk verify`), "
            "then run copy-to again: it resumes",
            highlight=False,
        )
        return
    settings = [
        f"database_url = {json.dumps(database)}" if database else "",
        f"archive_url = {json.dumps(archive)}" if archive else "",
    ]
    where = f"[settings] of {config}" if config else "[settings] of your config file (now the bundled catalog)"
    out.print(
        "next: set " + " and ".join(s for s in settings if s) + f" in {where} (or XXGK_DATABASE_URL / "
        "XXGK_ARCHIVE_URL), then `xxgk verify`",
        highlight=False,
        markup=False,
    )
