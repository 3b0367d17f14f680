"""`xxgk parse FILE|URL`: what the parser reads off one page, without archiving it (checks a new portal)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import typer
from rich.table import Table

from cli.context import EXIT_FAILED, ctx_obj, fail, make_console, print_json

if TYPE_CHECKING:
    from scraper.parse import ParsedArticle


out = make_console()
_BODY_LINES = 8


def parse(
    ctx: typer.Context,
    target: str = typer.Argument(..., metavar="FILE|URL", help="A saved page, or an http(s) URL to fetch."),
    base_url: str | None = typer.Option(
        None, "--base-url", metavar="URL", help="The URL the page was saved from (resolves its links)."
    ),
    json_out: bool = typer.Option(False, "--json", help="One JSON object."),
    explain: bool = typer.Option(False, "--explain", help="Say which label or rule gave each field."),
) -> None:
    """Parse one page into the document record with its attachments (nothing is archived)."""
    from scraper.parse import ParseError, parse_article

    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise fail(f"--base-url needs an http:// or https:// URL, got {base_url!r}")
    if target.startswith(("http://", "https://")):
        body, content_type, url = _fetch(ctx, target)
    else:
        path = Path(target)
        if not path.is_file():
            raise fail(f"no such file: {target}")
        body, content_type, url = path.read_bytes(), None, base_url or path.resolve().as_uri()
    try:
        art = parse_article(body, base_url or url, content_type)
    except ParseError as exc:
        raise fail(f"cannot parse {target}: {exc}", EXIT_FAILED)
    record = _record(art, base_url or url, explain)
    if json_out:
        print_json(record)
    else:
        _print(record, explain)


def register(app: typer.Typer) -> None:
    app.command()(parse)


def _fetch(ctx: typer.Context, url: str) -> tuple[bytes, str | None, str]:
    import asyncio

    from scraper.blocking import block_reason
    from scraper.fetch import Fetcher, FetchError, FetchPolicy

    st = ctx_obj(ctx).config.settings
    policy = FetchPolicy.from_settings(st, rate=0, allowed_hosts=frozenset({urlsplit(url).hostname}))

    async def get():
        async with Fetcher(policy) as fetcher:
            return await fetcher.fetch(url)

    try:
        res = asyncio.run(get())
    except FetchError as exc:
        raise fail(f"cannot fetch {url}: {exc.reason}", EXIT_FAILED)
    blocked = block_reason(res.status, res.body, res.content_type)
    if blocked or res.status != 200:
        raise fail(f"{url} answered {blocked or f'HTTP {res.status}'}", EXIT_FAILED)
    return res.body, res.content_type, res.url


def _record(art: ParsedArticle, url: str, explain: bool) -> dict:
    """The contract's document keys a parse can give, plus what the parser noticed."""
    from storage.contract import CONTRACT_FIELDS

    record = {field: getattr(art, field) for field in CONTRACT_FIELDS}
    record.update(
        fields=art.fields,
        body_text=art.body_text,
        url=url,
        attachments=[{"name": a.name, "url": a.url} for a in art.attachments],
        related=[{"name": r.name, "url": r.url} for r in art.related],
        warnings=art.warnings,
    )
    if explain:
        record["explain"] = art.explain
    return record


def _print(record: dict, explain: bool) -> None:
    from storage.contract import CONTRACT_FIELDS

    table = Table("field", "value", *(["from"] if explain else []), show_header=True)
    for field in CONTRACT_FIELDS:
        table.add_row(field, record[field] or "", *([record["explain"].get(field, "")] if explain else []))
    out.print(table)
    out.print(f"[bold]attachments[/] ({len(record['attachments'])})", highlight=False)
    for att in record["attachments"]:
        out.print(f"  {att['name']}  {att['url']}", highlight=False, markup=False)
    lines = record["body_text"].splitlines()
    out.print(f"[bold]body[/] ({len(lines)} lines)", highlight=False)
    for line in lines[:_BODY_LINES]:
        out.print(f"  {line}", highlight=False, markup=False)
    if len(lines) > _BODY_LINES:
        out.print("  …", highlight=False, markup=False)
    for warning in record["warnings"]:
        out.print(f"[yellow]warning:[/] {warning}", highlight=False)
