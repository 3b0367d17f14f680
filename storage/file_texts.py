"""The text read out of archived files (issue 17): stored once per (sha256, extractor version), the
newest row of a file searched; which files still need reading; where a query matches inside a file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from storage import search
from storage.models import Attachment, FileText, utcnow

if TYPE_CHECKING:
    from sqlmodel import Session

FT = FileText.__table__

PAGE_BREAK = "\f"


def save(
    s: Session,
    sha256: str,
    *,
    extractor: str,
    extractor_version: str,
    library: str | None,
    status: str,
    pages: list[str],
    labels: list[str] | None,
    error: str | None,
    seconds: float,
) -> int:
    """Record one extraction (a row per extractor version: an older one is kept) and make it the searched
    text; its file_texts id."""
    one = Reading(sha256, extractor, extractor_version, library, status, pages, labels, error, seconds)
    return save_many(s.connection(), [one])[0]


class Reading(NamedTuple):
    """One file's extraction, as `save_many` records it."""

    sha256: str
    extractor: str
    extractor_version: str
    library: str | None
    status: str
    pages: list[str]
    labels: list[str] | None
    error: str | None
    seconds: float


def save_many(conn: Connection, readings: list[Reading]) -> list[int]:
    """`save` for many files in a few statements (Core: one select, an executemany insert, the search
    rows), in the caller's transaction; the file_texts id of each."""
    if len({r.sha256 for r in readings}) != len(readings):  # the same file twice: in order, one at a time
        return [fid for r in readings for fid in save_many(conn, [r])]
    rows: list[dict[str, Any]] = []
    for r in readings:
        pages = [storable(p) for p in r.pages]
        text = PAGE_BREAK.join(pages)
        rows.append(
            {
                "sha256": r.sha256,
                "extractor_version": r.extractor_version,
                "extractor": r.extractor,
                "library": r.library,
                "status": r.status,
                "error": storable(r.error) if r.error else r.error,
                "pages": len(pages) or None,
                "chars": len(text),
                "labels": r.labels,
                "text": text,
                "seconds": round(r.seconds, 3),
            }
        )
    found = conn.execute(
        select(FT.c.id, FT.c.sha256, FT.c.extractor_version).where(FT.c.sha256.in_([r["sha256"] for r in rows]))
    )
    have = {(sha, ver): fid for fid, sha, ver in found}
    ids: dict[str, int] = {}
    fresh = [r for r in rows if (r["sha256"], r["extractor_version"]) not in have]
    again = [{**r, "_id": have[key]} for r in rows if (key := (r["sha256"], r["extractor_version"])) in have]
    if again:  # the same extractor version read it before: its row is updated (not its extracted_at)
        conn.execute(update(FT).where(FT.c.id == bindparam("_id")), again)
        ids.update({r["sha256"]: r["_id"] for r in again})
    if fresh:
        now = utcnow()
        made = conn.execute(
            insert(FT).returning(FT.c.id, sort_by_parameter_order=True), [{**r, "extracted_at": now} for r in fresh]
        )
        ids.update({r["sha256"]: fid for r, (fid,) in zip(fresh, made)})
    search.index_files(conn, [(ids[r["sha256"]], r["sha256"], r["text"]) for r in rows])
    return [ids[r["sha256"]] for r in rows]


def storable(value: str) -> str:
    """Text both databases take: no NUL (PostgreSQL refuses it), no lone surrogates (not UTF-8)."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def newest(s: Session, shas: list[str]) -> dict[str, FileText]:
    """The newest extraction of each of these files (those never read are absent)."""
    if not shas:
        return {}
    latest = select(func.max(FileText.id)).where(FileText.sha256.in_(shas)).group_by(FileText.sha256)
    return {ft.sha256: ft for ft in s.scalars(select(FileText).where(FileText.id.in_(latest)))}


def unread(s: Session, limit: int | None = None) -> list[tuple[str, str]]:
    """(sha256, a name it was linked under) of archived attachment files no extractor has read yet."""
    q = (
        select(Attachment.sha256, func.min(Attachment.name))
        .where(Attachment.sha256.is_not(None))
        .where(~select(FileText.id).where(FileText.sha256 == Attachment.sha256).exists())
        .group_by(Attachment.sha256)
        .order_by(func.min(Attachment.id))
    )
    return [tuple(r) for r in s.execute(q.limit(limit) if limit else q)]


def read_by(s: Session) -> list[tuple[str, str, str]]:
    """(sha256, name, extractor_version) of every read file, by its newest extraction (for re-reading)."""
    latest = select(func.max(FileText.id)).group_by(FileText.sha256)
    names = select(func.min(Attachment.name)).where(Attachment.sha256 == FileText.sha256).scalar_subquery()
    q = select(FileText.sha256, names, FileText.extractor_version).where(FileText.id.in_(latest)).order_by(FileText.id)
    return [(sha, name or "", ver) for sha, name, ver in s.execute(q)]


def page_texts(ft: FileText) -> list[str]:
    return ft.text.split(PAGE_BREAK) if ft.text else []


def page_label(ft: FileText, page: int) -> str:
    """How a page is named: 'page 3', or a zip member / sheet name."""
    labels = ft.labels or []
    return labels[page - 1] if 0 < page <= len(labels) else f"page {page}"


def where_matched(ft: FileText, terms: list[str]) -> tuple[int, search.Snippet] | None:
    """(page from 1, snippet of that page) of the first match, when the file contains every term."""
    norm = search.normalise(ft.text)
    found = [norm.find(t) for t in terms]
    if not found or min(found) < 0:
        return None
    first = min(found)
    page = norm.count(PAGE_BREAK, 0, first) + 1
    return page, search.snippet(page_texts(ft)[page - 1], terms)
