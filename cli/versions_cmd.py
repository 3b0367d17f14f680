"""`xxgk history INDEX_NO` (the version timeline) and `xxgk diff INDEX_NO [V1 [V2]]` (coloured unified diff)."""

from __future__ import annotations

import typer
from rich.table import Table
from rich.text import Text

from cli.context import ctx_obj, fail, make_console, print_jsonl
from cli.options import document_or_fail, version_or_fail
from cli.times import local_time, zone_caption

out = make_console()


def summarise(entry: dict) -> str:
    """What changed in one version, in a line."""
    if entry["body"] is None:
        return "first seen"
    parts = []
    if entry["fields_changed"]:
        parts.append("fields: " + ", ".join(c["field"] for c in entry["fields_changed"]))
    body = entry["body"]
    if body["changed"]:
        parts.append(
            f"body +{body['lines_added']} -{body['lines_removed']} lines "
            f"({body['chars_before']} -> {body['chars_after']} chars)"
        )
    if entry["attachments_added"] or entry["attachments_removed"]:
        parts.append(f"attachments +{len(entry['attachments_added'])} -{len(entry['attachments_removed'])}")
    parts += [f"attachment replaced: {r['name']}" for r in entry["attachments_replaced"]]
    return "; ".join(parts) or "no content change"


def replacements(entries: list[dict]) -> list[str]:
    """Each replaced file in full: version, name, URL, old and new sha256 and size."""
    return [
        f"v{e['version']} replaced {r['name']} <{r['url']}>\n"
        f"  old sha256 {r['old_sha256']} ({_size(r['old_size'])})\n"
        f"  new sha256 {r['new_sha256']} ({_size(r['new_size'])})"
        for e in entries
        for r in e["attachments_replaced"]
    ]


def _size(size: int | None) -> str:
    return "not archived" if size is None else f"{size:,} B"


def _styled_diff(lines: list[str]) -> list[Text]:
    """Colour a unified diff; in a changed line pair, the differing characters stand out."""
    styled = [Text(line, style=_line_style(line)) for line in lines]
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and lines[j].startswith("-") and not lines[j].startswith("---"):
            j += 1
        k = j
        while k < len(lines) and lines[k].startswith("+") and not lines[k].startswith("+++"):
            k += 1
        if j > i and k - j == j - i:
            for a, b in zip(range(i, j), range(j, k)):
                _mark_changes(styled[a], styled[b], lines[a][1:], lines[b][1:])
        i = max(k, i + 1)
    return styled


def _line_style(line: str) -> str:
    if line.startswith(("---", "+++")):
        return "bold"
    return {"-": "red", "+": "green", "@": "cyan"}.get(line[:1], "")


def _mark_changes(old: Text, new: Text, a: str, b: str) -> None:
    from storage.history import char_changes

    spans_a, spans_b = char_changes(a, b)
    for text_, spans in ((old, spans_a), (new, spans_b)):
        for i, j in spans:
            text_.stylize("bold reverse", i + 1, j + 1)


def history(
    ctx: typer.Context,
    index_no: str = typer.Argument(..., metavar="INDEX_NO", help="索引号 (or a document URL)."),
    json_out: bool = typer.Option(False, "--json", help="JSON Lines, one version a line."),
) -> None:
    """The versions of one document: when each was seen, from which capture, what changed."""
    from storage.db import read_session
    from storage.history import timeline

    app_ctx = ctx_obj(ctx)
    with read_session(app_ctx.archive_engine) as s:
        doc = document_or_fail(s, index_no)
        entries = timeline(s, doc)
        title, withdrawn = doc.title, doc.withdrawn_at
    if json_out:
        return print_jsonl(entries)
    out.print(Text(title or "(no title)", style="bold"), Text(f"  {doc.index_no or doc.url}", style="dim"))
    if withdrawn:
        out.print(Text(f"withdrawn {local_time(withdrawn, app_ctx.config.settings.timezone)}", style="red"))
    tz = app_ctx.config.settings.timezone
    table = Table(caption=zone_caption(tz), caption_justify="left")
    for col in ("v", "seen", "until", "parser", "what changed"):
        table.add_column(col, overflow="fold")
    for e in entries:
        note = summarise(e)
        for r in e["reparses"]:
            note += f"\n[re-parsed {r['at']}: parser {r['from_parser']} -> {r['to_parser']}]"
        table.add_row(
            f"{e['version']}{' *' if e['current'] else ''}",
            local_time(e["seen_at"], tz),
            local_time(e["until"], tz),
            e["parser_version"],
            Text(note),
        )
    out.print(table)
    for line in replacements(entries):
        out.print(line, highlight=False, soft_wrap=True)


def diff(
    ctx: typer.Context,
    index_no: str = typer.Argument(..., metavar="INDEX_NO", help="索引号 (or a document URL)."),
    v1: int | None = typer.Argument(None, min=1, help="Older version (default: the one before V2)."),
    v2: int | None = typer.Argument(None, min=1, help="Newer version (default: the latest)."),
    context: int = typer.Option(3, "--context", "-U", min=0, help="Lines of context."),
) -> None:
    """Unified diff of fields and body text between two versions (default: the last two)."""
    from storage.db import read_session
    from storage.history import unified_diff

    app_ctx = ctx_obj(ctx)
    with read_session(app_ctx.archive_engine) as s:
        doc = document_or_fail(s, index_no)
        if v1 is None and doc.version < 2:
            out.print(f"{doc.index_no or doc.url} has one version: nothing to compare", highlight=False)
            return
        new_no = v2 or doc.version
        old_no = v1 if v1 is not None else new_no - 1
        if old_no < 1:
            raise fail(f"there is no version before version {new_no}")
        pair = [version_or_fail(s, doc, n, doc.index_no or doc.url) for n in (old_no, new_no)]
        lines = unified_diff(s, doc, pair[0], pair[1], context)
    if not lines:
        out.print(f"versions {old_no} and {new_no} are identical", highlight=False)
        return
    for t in _styled_diff(lines):
        out.print(t)


def register(app: typer.Typer) -> None:
    app.command()(history)
    app.command()(diff)
