"""Options several verbs share, each validated in one place: dates, date-times and source names."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

from cli.context import EXIT_FAILED, AppContext, fail
from storage.stamps import iso_day

if TYPE_CHECKING:  # storage loads when a command runs, not when the CLI starts
    from storage.doc_reads import Reads
    from storage.queries import Reader, Row


def _iso_date(value: str | None) -> str | None:
    try:
        return None if value is None else iso_day(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _iso_datetime(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        datetime.fromisoformat(value)
        return value
    except ValueError:
        raise typer.BadParameter(f"want a date or time as YYYY-MM-DD[THH:MM[:SS]][+08:00|Z], got {value!r}") from None


def since_option(what: str = "Published") -> str | None:
    return typer.Option(None, "--since", metavar="YYYY-MM-DD", callback=_iso_date, help=f"{what} on or after this day.")


def until_option(what: str = "Published") -> str | None:
    return typer.Option(
        None, "--until", metavar="YYYY-MM-DD", callback=_iso_date, help=f"{what} on or before this day."
    )


def changed_since_option() -> str | None:
    return typer.Option(
        None,
        "--changed-since",
        metavar="DATETIME",
        callback=_iso_datetime,
        help="Documents first seen, changed or withdrawn at or after this moment (when the "
        "archive saw it, not the publish date); without an offset, in settings.timezone.",
    )


def local_datetime(value: str | None, tz: str) -> datetime | None:
    """A validated --changed-since value as an aware datetime (read in `tz` when it has no offset)."""
    if value is None:
        return None
    at = datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=ZoneInfo(tz))


def check_source(app: AppContext, s: Reader | Reads, name: str | None) -> str | None:
    """`name` when it is a configured source or one in the archive; else exit 2 naming the known ones."""
    from storage.doc_reads import source_names

    if name is None:
        return None
    known = set(source_names(reads(s)).values()) | {src.name for src in app.config.sources}
    if name not in known:
        raise fail(f"unknown source {name!r} (known: {', '.join(sorted(known)) or 'none'})")
    return name


def reads(s: Reader | Reads) -> Reads:
    """`s` as storage/doc_reads.py's reader (SQLAlchemy loads only for a Session or Connection)."""
    from storage.doc_reads import Reads

    if isinstance(s, Reads):
        return s
    from storage.queries import CoreReads

    return CoreReads(s)


def document_or_fail(s: Reader | Reads, ident: str) -> Row:
    """The document `ident` names (索引号, doc key or URL); exit 1 naming it when the archive has none."""
    from storage.doc_reads import find_document

    doc = find_document(reads(s), ident)
    if doc is None:
        raise fail(f"no document {ident!r} in the archive", EXIT_FAILED)
    return doc


def version_or_fail(s: Reader | Reads, doc: Row, version: int | None, name: str) -> Row:
    """Version `version` of `doc` (None: the latest); exit 1 naming the versions there are."""
    from storage.doc_reads import get_version

    ver = get_version(reads(s), doc, version)
    if ver is None:
        raise fail(f"{name} has versions 1..{doc.version}, not {version}", EXIT_FAILED)
    return ver
