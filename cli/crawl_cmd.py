"""`xxgk crawl` (foreground, with a progress bar) and `xxgk demo` (the bundled offline portal)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import typer

from cli.context import EXIT_BUSY, EXIT_FAILED, AppContext, ctx_obj, err_console, fail, print_jsonl

if TYPE_CHECKING:  # the crawl machinery loads when a crawl runs
    from schedules.runner import SourceBusy
    from scraper.config import SourceConfig
    from scraper.crawl import RunSummary

DEMO_PORT, DEMO_DOCS = 8340, 120
SUMMARY_COLUMNS = ("listed", "fetched", "new", "changed", "unchanged", "withdrawn", "errors", "attachments", "requests")


def run_crawls(
    app: AppContext, sources: list[SourceConfig], full: bool, max_pages: int | None, wait: bool = False
) -> list[RunSummary | SourceBusy]:
    """Crawl `sources` in parallel under their leases; a busy source comes back as SourceBusy."""
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from schedules.notify import deliver_or_log
    from schedules.runner import SourceBusy, SourceRun, new_holder
    from scraper.extract.stage import files_drained

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=app.verbosity < 0 or not err_console.is_terminal,
    )
    holder = new_holder("crawl")

    def reporter(task):
        counts = {"listed": 0, "done": 0}

        def report(event: str, **kw) -> None:
            counts[event] += 1
            progress.update(task, total=counts["listed"], completed=counts["done"], note=f"{kw.get('outcome', '')}")

        return report

    async def one(src: SourceConfig):
        task = progress.add_task(src.name, total=None, note="")
        run = SourceRun(
            app.config,
            src,
            app.engine,
            app.store,
            holder=holder,
            full=full,
            max_pages=max_pages,
            progress=reporter(task),
        )
        try:
            return await run.run(wait=wait)
        except SourceBusy as busy:
            return busy

    async def main():
        results = await asyncio.gather(*(one(src) for src in sources))
        await files_drained()  # issue 17: the text of the files these runs archived, read before exiting
        return results

    with progress:
        results = asyncio.run(main())
    report = deliver_or_log(app.config, app.engine, holder)  # the events of these runs (and any left over)
    if report is not None and app.verbosity >= 0 and (report.planned or report.sent or report.failed):
        err_console.print(
            f"notifications: {report.sent} sent"
            + (
                f", [yellow]{report.failed} not delivered[/] (tried again later, by the next crawl or the daemon)"
                if report.failed
                else ""
            ),
            highlight=False,
        )
    return results


def print_summaries(results: list[RunSummary | SourceBusy]) -> None:
    from schedules.runner import SourceBusy

    for r in results:
        if isinstance(r, SourceBusy):
            err_console.print(f"[yellow]{r}[/]: not crawled (use --wait to wait for it)", highlight=False)
            continue
        colour = {"ok": "green", "partial": "yellow"}.get(r.status, "red")
        counts = ", ".join(f"{getattr(r, c)} {c}" for c in SUMMARY_COLUMNS)
        err_console.print(
            f"run {r.run_id} [bold]{r.source}[/] ({r.mode}) [{colour}]{r.status}[/]: {counts} in {r.seconds:.1f}s",
            highlight=False,
        )
    for r in results:
        if isinstance(r, SourceBusy):
            continue
        if r.health and r.health != "OK":
            err_console.print(f"  [red]{r.source} health {r.health}[/]", highlight=False)
        for p in r.problems[:10]:
            err_console.print(f"  [yellow]{r.source}[/]: {p}", highlight=False)
        if len(r.problems) > 10:
            err_console.print(f"  [yellow]{r.source}[/]: … and {len(r.problems) - 10} more (see `xxgk runs`)")


def crawl(
    ctx: typer.Context,
    names: list[str] = typer.Argument(None, metavar="NAME...", help="Sources to crawl."),
    all_: bool = typer.Option(False, "--all", help="Crawl every configured source."),
    full: bool = typer.Option(False, "--full", help="Re-walk every list page and re-fetch every document."),
    max_pages: int | None = typer.Option(None, "--max-pages", min=1, help="At most N list requests per column."),
    wait: bool = typer.Option(False, "--wait", help="If a source is being crawled elsewhere, wait for it."),
    json_out: bool = typer.Option(False, "--json", help="Print run summaries as JSON Lines."),
) -> None:
    """Crawl sources now, in the foreground. Exit 0 when runs finished, 1 when one failed,
    3 when a source is being crawled by another process (see --wait)."""
    from schedules.runner import SourceBusy
    from scraper.config import ConfigError

    app_ctx = ctx_obj(ctx)
    if bool(names) == all_:
        raise fail("name one or more sources, or use --all (not both)")
    cfg = app_ctx.config
    try:
        sources = cfg.sources if all_ else [cfg.source(n) for n in names]
    except ConfigError as exc:
        raise fail(str(exc))
    results = run_crawls(app_ctx, sources, full, max_pages, wait)
    if json_out:
        print_jsonl(
            {"source": r.source, "status": "busy", "holder": r.holder} if isinstance(r, SourceBusy) else r.as_dict()
            for r in results
        )
    elif app_ctx.verbosity >= 0:
        print_summaries(results)
    busy = [r for r in results if isinstance(r, SourceBusy)]
    if busy:
        if json_out:
            for r in busy:
                err_console.print(f"[yellow]{r}[/]: not crawled (use --wait to wait for it)", highlight=False)
        raise typer.Exit(EXIT_BUSY)
    if any(getattr(r, "status", "") == "failed" for r in results):
        raise typer.Exit(EXIT_FAILED)


def demo(
    ctx: typer.Context,
    directory: Path = typer.Option(Path("xxgk-demo"), "--dir", help="Where the demo archive goes."),
    docs: int | None = typer.Option(
        None,
        "--docs",
        min=10,
        max=100_000,
        help=f"Documents in the portal (default: as DIR/xxgk.toml records, else {DEMO_DOCS}).",
    ),
    days: int = typer.Option(2, "--days", min=1, max=3, help="Portal days to crawl (day 2 adds, edits, deletes)."),
    port: int | None = typer.Option(
        None,
        "--port",
        min=0,
        max=65535,
        help=f"The portal's port (default: the one DIR/xxgk.toml records, else {DEMO_PORT}; 0: any free port).",
    ),
    serve: bool = typer.Option(
        False,
        "--serve",
        help="Keep the portal running after the crawl (Ctrl-C stops), so DIR/xxgk.toml can be crawled again.",
    ),
) -> None:
    """Start the bundled offline portal on 127.0.0.1 and crawl it into a demo archive. Run again on the same
    DIR, it serves the portal at the same address and crawls its last day again (nothing new to find).
    Exit 1 unless every run ended ok."""
    from schedules.runner import SourceBusy
    from scraper.config import load_config

    cfg_path = directory / "xxgk.toml"
    recorded, recorded_docs = _demo_recorded(cfg_path)
    if recorded is not None and port not in (None, recorded):
        raise fail(
            f"the demo archive in {directory} was made with the portal at port {recorded} (its URLs "
            f"carry it): use --port {recorded} or a new --dir"
        )
    if recorded is not None and docs not in (None, recorded_docs):
        raise fail(
            f"the demo archive in {directory} was made from a portal of {recorded_docs} documents: "
            f"use --docs {recorded_docs} or a new --dir"
        )
    docs = recorded_docs if recorded is not None else docs or DEMO_DOCS
    with _demo_portal(docs, recorded if recorded is not None else port, fixed=recorded is not None) as sim:
        directory.mkdir(parents=True, exist_ok=True)
        urls = ", ".join(f'"{u}"' for u in sim.column_urls)
        cfg_path.write_text(
            f"# xxgk demo: docs = {docs} (the portal at the port of the URLs below)\n"
            '[settings]\ndata_dir = "data"\n\n[[sources]]\nname = "kaihua"\n'
            'title = "开化县人民政府 政府信息公开 (offline simulator)"\n'
            f'start_urls = [{urls}]\nfamily = "hanweb-jpage"\nrate = 50.0\nconcurrency = 4\n',
            "utf-8",
        )
        app_ctx = AppContext(config_path=str(cfg_path), verbosity=ctx_obj(ctx).verbosity)
        app_ctx.config = load_config(cfg_path)
        results = []
        for day in range(days if recorded is not None else 1, days + 1):  # a rerun: the last day again
            sim.set_day(day)
            err_console.print(f"[bold]portal day {day}[/] at {sim.base_url}")
            results += run_crawls(app_ctx, app_ctx.config.sources, full=day > 1, max_pages=None)
        print_summaries(results)
        err_console.print(
            f"\ninspect it: [bold]xxgk --config {cfg_path} ls[/]  ·  "
            f"[bold]xxgk --config {cfg_path} show 113308245972094984/2025-01529[/]"
        )
        if serve:
            err_console.print(
                f"portal running at {sim.base_url} (Ctrl-C to stop): `xxgk --config {cfg_path} crawl kaihua` crawls it"
            )
            import asyncio

            try:
                while True:
                    asyncio.run(asyncio.sleep(3600))
            except KeyboardInterrupt:
                pass
    if any(isinstance(r, SourceBusy) for r in results):
        raise typer.Exit(EXIT_BUSY)
    if any(getattr(r, "status", "") != "ok" for r in results):
        raise fail("the demo crawl did not end ok (see above)", EXIT_FAILED)


def register(app: typer.Typer) -> None:
    app.command()(crawl)
    app.command()(demo)


def _demo_recorded(cfg_path: Path) -> tuple[int | None, int]:
    """The port an earlier demo in this folder served the portal at (its URLs carry it) and the portal's
    size (its first line; demos before it was recorded had the default); (None, default) for no demo."""
    from scraper.config import ConfigError, load_config

    try:
        port = urlsplit(load_config(cfg_path).sources[0].start_urls[0]).port
    except (ConfigError, IndexError):
        return None, DEMO_DOCS
    found = re.match(r"# xxgk demo: docs = (\d+)", cfg_path.read_text("utf-8"))
    return port, int(found.group(1)) if found else DEMO_DOCS


def _demo_portal(docs: int, port: int | None, fixed: bool):
    """The demo portal at `port` (default DEMO_PORT; when that is busy and nothing fixes it, any free port)."""
    from simulator import PortalSimulator

    try:
        return PortalSimulator(seed=0, docs=docs, port=DEMO_PORT if port is None else port).start()
    except OSError as exc:
        if fixed or port is not None:
            raise fail(
                f"cannot serve the demo portal at 127.0.0.1:{port}: {exc.strerror}"
                + (" (the demo archive's URLs carry this port: free it, or use a new --dir)" if fixed else ""),
                EXIT_FAILED,
            )
        err_console.print(f"[yellow]port {DEMO_PORT} is busy:[/] the portal takes a free port instead")
        return PortalSimulator(seed=0, docs=docs, port=0).start()
