"""The text read out of archived files (issue 17): stored once per (sha256, extractor version), the
newest row of a file searched; which files still need reading; where a query matches inside a file."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from storage import search
from storage.models import Attachment, FileText

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
) -> FileText:
    """Record one extraction (a row per extractor version: an older one is kept) and make it the searched text."""
    pages = [storable(p) for p in pages]
    error = storable(error) if error else error
    text = PAGE_BREAK.join(pages)
    row = s.scalars(
        select(FileText).where(FileText.sha256 == sha256, FileText.extractor_version == extractor_version)
    ).first()
    if row is None:
        row = FileText(sha256=sha256, extractor_version=extractor_version, extractor=extractor, status=status)
    row.extractor, row.library, row.status, row.error = extractor, library, status, error
    row.pages, row.chars, row.labels, row.text, row.seconds = (
        len(pages) or None,
        len(text),
        labels,
        text,
        round(seconds, 3),
    )
    s.add(row)
    s.flush()
    search.index_file(s.connection(), row.id, sha256, text)
    return row


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
