"""`xxgk files get`: an archived file (an attachment, or any blob by its sha256) out of the archive."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import typer

from cli.context import EXIT_FAILED, ctx_obj, err_console, fail
from cli.options import document_or_fail, version_or_fail
from cli.output import output_file

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def register(app: typer.Typer) -> None:
    files_app = typer.Typer(help="Archived files (attachments and every other archived body).")
    app.add_typer(files_app, name="files")

    @files_app.command("get")
    def get(ctx: typer.Context,
            index_no: Optional[str] = typer.Argument(None, metavar="INDEX_NO", help="索引号 (or a document URL)."),
            which: Optional[str] = typer.Argument(None, metavar="[N|NAME]",
                                                  help="Attachment number (as `show` lists them, from 1) or name; "
                                                       "may be left out when there is one."),
            sha256: Optional[str] = typer.Option(None, "--sha256", metavar="HEX", help="Any archived body by its sha256."),
            version: Optional[int] = typer.Option(None, "--version", min=1, help="Of version N (default: latest)."),
            output: Path = typer.Option(..., "-o", "--output", metavar="PATH",
                                        help="Write here (atomically); `-` for stdout.")) -> None:
        """Write an archived file, checked against its sha256 as it is read back (exit 1 if it is damaged)."""
        from storage.archive import ArchiveError
        from storage.db import read_session
        from storage.queries import blob_known, pick_attachment, version_attachments

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
                doc = document_or_fail(s, index_no)
                ver = version_or_fail(s, doc, version, f"document {index_no}")
                try:
                    att = pick_attachment(version_attachments(s, ver), which)
                except LookupError as exc:
                    raise fail(f"{doc.index_no or doc.url} version {ver.version}: {exc}", EXIT_FAILED)
                if att.sha256 is None:
                    raise fail(f"{att.name} ({att.url}) was not archived: it could not be fetched", EXIT_FAILED)
                digest, label = att.sha256, f"{att.name} ({att.sha256})"
        try:
            data = app_ctx.store.get(digest)       # decompressed and checked against its sha256
        except ArchiveError as exc:
            raise fail(str(exc), EXIT_FAILED)
        with output_file(output, binary_to_tty=True) as fh:
            fh.write(data)
        if str(output) != "-":
            err_console.print(f"wrote {label}, {len(data):,} bytes, to {output}", highlight=False, markup=False)
