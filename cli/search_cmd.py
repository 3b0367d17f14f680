"""`xxgk search QUERY`: full text over titles, bodies and the text of their files, Chinese substrings included."""

from __future__ import annotations

import typer
from rich.text import Text

from cli.context import ctx_obj, err_console, fail, make_console, print_jsonl
from cli.options import check_source, since_option, until_option

out = make_console()
MATCH_STYLE = "bold black on yellow"


def _styled(value: str, spans: list[tuple[int, int]], base: str = "") -> Text:
    t = Text(value, style=base)
    for a, b in spans:
        t.stylize(MATCH_STYLE, a, b)
    return t


def search_cmd(
    ctx: typer.Context,
    words: list[str] = typer.Argument(
        ..., metavar="QUERY", help="Terms of 2+ characters, all required (法治 政府); a '\"quoted phrase\"' is exact."
    ),
    limit: int = typer.Option(20, "--limit", min=1, help="At most N documents."),
    source: str | None = typer.Option(None, "--source", help="Only this source."),
    since: str | None = since_option(),
    until: str | None = until_option(),
    publisher: str | None = typer.Option(None, "--publisher", help="Publisher contains TEXT."),
    scope: str = typer.Option(
        "all",
        "--in",
        metavar="pages|files|all",
        help="Search the pages (title and body), the text of their files (attachments), or both.",
    ),
    json_out: bool = typer.Option(False, "--json", help="JSON Lines, one document a line."),
) -> None:
    """Search titles, bodies and the text of their files for documents containing every term (any substring
    of 2+ characters), best first. A file matches when it holds every term; the result names it and the page."""
    from storage import search
    from storage.db import read_session
    from storage.search_hits import search_documents

    app_ctx, query = ctx_obj(ctx), " ".join(words)
    if scope not in search.SCOPES:
        raise fail(f"--in wants pages, files or all, got {scope!r}")
    with read_session(app_ctx.archive_engine) as s:
        filters = search.Filters(source=check_source(app_ctx, s, source), since=since, until=until, publisher=publisher)
        try:
            rows = search_documents(s, query, filters, limit, scope=scope)
        except search.SearchError as exc:
            raise fail(str(exc))
        total = None if json_out or len(rows) < limit else search.count(s.connection(), query, filters, scope)
        note = None if rows else no_hits(search.unmatched(s.connection(), query, filters, scope))
    if json_out:
        if note:
            err_console.print(note, highlight=False, markup=False)
        return print_jsonl(rows)
    for i, r in enumerate(rows, 1):
        out.print(Text(f"{i:>3}. ", style="dim") + _styled(r["title"] or "(no title)", r["title_matches"], "bold"))
        meta = " · ".join(x for x in (r["index_no"] or r["url"], r["publisher"], r["publish_date"], r["source"]) if x)
        out.print(
            Text(f"     {meta}", style="dim") + (Text("  withdrawn", style="red") if r["withdrawn_at"] else Text(""))
        )
        if "page" in r["matched_in"] or not r["files_matched"]:
            out.print(Text("     ") + _styled(r["snippet"], r["snippet_matches"]))
        for f in r["files_matched"]:
            out.print(
                Text(f"     in file {f['name']}, {f['page_label']}: ", style="cyan")
                + _styled(f["snippet"], f["snippet_matches"])
            )
    shown = len(rows)
    out.print(
        f"{shown} of {total if total is not None else shown} documents matching {query!r}",
        highlight=False,
        markup=False,
    )
    if note:
        out.print(note, highlight=False, markup=False)


def no_hits(unmatched: list[str]) -> str:
    """Why a search found nothing: the terms no document contains, or that none has them all."""
    if unmatched:
        return "no document contains " + ", ".join(repr(t) for t in unmatched)
    return "each term is found, but no document contains them all"


def register(app: typer.Typer) -> None:
    app.command("search")(search_cmd)
