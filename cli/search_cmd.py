"""`xxgk search QUERY`: full text over title and body, Chinese substrings included."""
from __future__ import annotations

from typing import Optional

import typer
from rich.text import Text

from cli.context import ctx_obj, fail, make_console, print_jsonl
from cli.options import check_source, since_option, until_option
from storage import search
from storage.db import read_session
from storage.search_hits import search_documents

out = make_console()
MATCH_STYLE = "bold black on yellow"


def _styled(value: str, spans: list[tuple[int, int]], base: str = "") -> Text:
    t = Text(value, style=base)
    for a, b in spans:
        t.stylize(MATCH_STYLE, a, b)
    return t


def register(app: typer.Typer) -> None:
    @app.command("search")
    def search_cmd(ctx: typer.Context,
                   query: str = typer.Argument(..., metavar="QUERY", help="Two or more characters, e.g. 政府 or 法治政府建设."),
                   limit: int = typer.Option(20, "--limit", min=1, help="At most N documents."),
                   source: Optional[str] = typer.Option(None, "--source", help="Only this source."),
                   since: Optional[str] = since_option(),
                   until: Optional[str] = until_option(),
                   publisher: Optional[str] = typer.Option(None, "--publisher", help="Publisher contains TEXT."),
                   json_out: bool = typer.Option(False, "--json", help="JSON Lines, one document a line.")) -> None:
        """Search titles and bodies (any substring of 2+ characters), best matches first, with snippets."""
        app_ctx = ctx_obj(ctx)
        with read_session(app_ctx.archive_engine) as s:
            filters = search.Filters(source=check_source(app_ctx, s, source), since=since, until=until,
                                     publisher=publisher)
            try:
                rows = search_documents(s, query, filters, limit)
            except search.SearchError as exc:
                raise fail(str(exc))
            total = None if json_out or len(rows) < limit else search.count(s.connection(), query, filters)
        if json_out:
            return print_jsonl(rows)
        for i, r in enumerate(rows, 1):
            out.print(Text(f"{i:>3}. ", style="dim") + _styled(r["title"] or "(no title)", r["title_matches"], "bold"))
            meta = " · ".join(x for x in (r["index_no"] or r["url"], r["publisher"], r["publish_date"], r["source"]) if x)
            out.print(Text(f"     {meta}", style="dim")
                      + (Text("  withdrawn", style="red") if r["withdrawn_at"] else Text("")))
            out.print(Text("     ") + _styled(r["snippet"], r["snippet_matches"]))
        shown = len(rows)
        out.print(f"{shown} of {total if total is not None else shown} documents matching {query!r}",
                  highlight=False, markup=False)
