"""`xxgk sources detect URL`: fetch a column page, name its family and list parameters, show what a crawl finds."""

from __future__ import annotations

import json

import typer
from rich.table import Table
from rich.text import Text

from cli.context import EXIT_FAILED, ctx_obj, fail, make_console, print_json

out = make_console()


def detect(
    ctx: typer.Context,
    url: str = typer.Argument(..., metavar="URL", help="A column (list) page of the portal."),
    items: int = typer.Option(5, "--items", min=0, max=100, help="Show the first N documents listed."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object."),
) -> None:
    """Tell the CMS family of a column page and its list parameters; exit 1 when it cannot."""
    from scraper.fetch import FetchPolicy
    from scraper.probe import probe

    if not url.startswith(("http://", "https://")):
        raise fail(f"need an http:// or https:// URL, got {url!r}")
    st = ctx_obj(ctx).config.settings
    policy = FetchPolicy.from_settings(st, rate=0)
    import asyncio

    found = asyncio.run(probe(url, policy, items))
    if json_out:
        print_json(found.as_dict())
    else:
        _print(found)
    if found.family is None:
        raise typer.Exit(EXIT_FAILED)


def register(sources_app: typer.Typer) -> None:
    sources_app.command()(detect)


def _print(found) -> None:
    if found.family is None:
        out.print(
            Text.assemble(("cannot tell the family", "bold red"), f" of {found.url}: {found.problem}"), highlight=False
        )
        return
    out.print(Text.assemble((found.family, "bold"), f"  {found.url}"), highlight=False)
    for key, value in found.params.items():
        out.print(Text.assemble("  ", (key, "dim"), f" {value}"), highlight=False)
    if found.total is not None:
        out.print(Text.assemble("  ", ("documents listed", "dim"), f" {found.total}"), highlight=False)
    if found.problem:
        out.print(Text(f"  {found.problem}", style="yellow"), highlight=False)
    if found.items:
        table = Table(show_header=True)
        for col in ("date", "title", "url"):
            table.add_column(col, overflow="fold")
        for item in found.items:
            table.add_row(item.date or "", item.title or "", item.url)
        out.print(table)
    snippet = (
        f'\nadd it to the config:\n[[sources]]\nname = "..."\nstart_urls = [{json.dumps(found.url)}]\n'
        f"family = {json.dumps(found.family)}"
    )
    if found.family == "generic":
        snippet += "\nselectors = {" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in found.params.items()) + "}"
    out.print(snippet, highlight=False, markup=False)
