"""`xxgk files get`: an archived file (an attachment, or any blob by its sha256) out of the archive;
`xxgk files text`: the text read out of an attachment (scraper/extract)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cli.context import EXIT_FAILED, ctx_obj, err_console, fail, print_json
from cli.options import document_or_fail, version_or_fail
from cli.output import output_file

if TYPE_CHECKING:  # storage loads when a command runs
    from storage.models import Attachment

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def get(
    ctx: typer.Context,
    index_no: str | None = typer.Argument(None, metavar="INDEX_NO", help="索引号 (or a document URL)."),
    which: str | None = typer.Argument(
        None,
        metavar="[N|NAME]",
        help="Attachment number (as `show` lists them, from 1) or name; may be left out when there is one.",
    ),
    sha256: str | None = typer.Option(None, "--sha256", metavar="HEX", help="Any archived body by its sha256."),
    version: int | None = typer.Option(None, "--version", min=1, help="Of version N (default: latest)."),
    output: Path = typer.Option(..., "-o", "--output", metavar="PATH", help="Write here (atomically); `-` for stdout."),
) -> None:
    """Write an archived file, checked against its sha256 as it is read back (exit 1 if it is damaged)."""
    from storage.archive import ArchiveError
    from storage.db import read_session
    from storage.queries import blob_known

    app_ctx = ctx_obj(ctx)
    if (index_no is None) == (sha256 is None):
        raise fail("give INDEX_NO [N|NAME] or --sha256 HEX (one of them)")
    if sha256 is not None and not _SHA256.match(sha256.lower()):
        raise fail(f"--sha256 wants 64 hex digits, got {sha256!r}")
    with read_session(app_ctx.archive_engine) as s:
        if sha256 is not None:
            digest = sha256.lower()
            if not blob_known(s, digest):
                raise fail(f"no archived body has sha256 {digest}", EXIT_FAILED)
            label = digest
        else:
            att = archived_attachment_or_fail(s, index_no, which, version)
            digest, label = att.sha256, f"{att.name} ({att.sha256})"
    try:
        data = app_ctx.store.get(digest)  # decompressed and checked against its sha256
    except ArchiveError as exc:
        raise fail(str(exc), EXIT_FAILED)
    with output_file(output, binary_to_tty=True) as fh:
        fh.write(data)
    if str(output) != "-":
        err_console.print(f"wrote {label}, {len(data):,} bytes, to {output}", highlight=False, markup=False)


def archived_attachment_or_fail(s, index_no: str, which: str | None, version: int | None) -> Attachment:
    """The attachment `which` of the document's version, archived; exit 1 naming what is missing."""
    from storage.queries import pick_attachment, version_attachments

    doc = document_or_fail(s, index_no)
    ver = version_or_fail(s, doc, version, f"document {index_no}")
    try:
        att = pick_attachment(version_attachments(s, ver), which)
    except LookupError as exc:
        raise fail(f"{doc.index_no or doc.url} version {ver.version}: {exc}", EXIT_FAILED)
    if att.sha256 is None:
        raise fail(f"{att.name} ({att.url}) was not archived: it could not be fetched", EXIT_FAILED)
    return att


def file_text(
    ctx: typer.Context,
    index_no: str = typer.Argument(..., metavar="INDEX_NO", help="索引号 (or a document URL)."),
    which: str | None = typer.Argument(
        None,
        metavar="[N|NAME]",
        help="Attachment number (as `show` lists them, from 1) or name; may be left out when there is one.",
    ),
    version: int | None = typer.Option(None, "--version", min=1, help="Of version N (default: latest)."),
    page: int | None = typer.Option(None, "--page", min=1, help="Only page P (form feeds separate pages)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object: extractor, status, pages, text."),
) -> None:
    """Print the text read out of an attachment (its newest extraction). Exit 1 when the file was not
    archived, not read yet (`xxgk extract`), or could not be read (the error says why)."""
    from storage import file_texts
    from storage.db import read_session

    app_ctx = ctx_obj(ctx)
    with read_session(app_ctx.archive_engine) as s:
        att = archived_attachment_or_fail(s, index_no, which, version)
        ft = file_texts.newest(s, [att.sha256]).get(att.sha256)
    if ft is None:
        raise fail(f"{att.name} ({att.sha256[:12]}) has not been read yet: run `xxgk extract`", EXIT_FAILED)
    pages = file_texts.page_texts(ft)
    if page is not None and page > len(pages):
        raise fail(f"{att.name} has {len(pages)} pages, not {page}", EXIT_FAILED)
    body = pages[page - 1] if page else ft.text
    if json_out:
        print_json(
            {
                "name": att.name,
                "sha256": att.sha256,
                "extractor": ft.extractor,
                "extractor_version": ft.extractor_version,
                "library": ft.library,
                "status": ft.status,
                "pages": ft.pages,
                "page_labels": ft.labels,
                "error": ft.error,
                "page": page,
                "text": body,
            }
        )
    elif body.strip():
        typer.echo(body)
    note = f"{att.name}: {ft.status} ({ft.extractor_version}, {ft.pages or 0} pages, {ft.chars:,} characters)"
    if ft.error:
        note += f": {ft.error}"
    if not json_out:
        err_console.print(note, highlight=False, markup=False)
    if ft.status in ("error", "unsupported", "scanned", "empty") and not body.strip():
        raise typer.Exit(EXIT_FAILED)


def register(app: typer.Typer) -> None:
    files_app = typer.Typer(help="Archived files (attachments and every other archived body).")
    app.add_typer(files_app, name="files")
    files_app.command("get")(get)
    files_app.command("text")(file_text)
