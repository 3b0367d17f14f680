"""Archive-first: the body goes to the blob store (fsynced) before any row refers to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from storage.archive import BlobStore
from storage.headers import header_in
from storage.models import Blob, Capture, utcnow


def _insert_ignore(s: Session, table, values: dict) -> None:
    dialect = s.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table).values(**values)
    s.execute(ins.on_conflict_do_nothing())


def archive_response(
    s: Session,
    store: BlobStore,
    *,
    url: str,
    status: int,
    body: bytes,
    headers: list,
    method: str = "GET",
    request_headers: list | None = None,
    request_body: bytes | None = None,
    fetched_at: datetime | None = None,
    run_id: int | None = None,
    source_id: int | None = None,
    kind: str = "page",
    error: str | None = None,
) -> Capture:
    fetched_at = fetched_at or utcnow()
    put = store.put(body)
    _insert_ignore(
        s,
        Blob.__table__,
        {"sha256": put.sha256, "size": put.size, "stored_size": put.stored_size, "created_at": fetched_at},
    )
    cap = Capture(
        run_id=run_id,
        source_id=source_id,
        kind=kind,
        method=method,
        url=url,
        request_body=request_body,
        request_headers=[list(h) for h in request_headers or []],
        status=status,
        headers=[list(h) for h in headers],
        sha256=put.sha256,
        size=put.size,
        error=error,
        fetched_at=fetched_at,
    )
    s.add(cap)
    s.flush()
    return cap


def capture_body(store: BlobStore, cap: Capture) -> bytes:
    return store.get(cap.sha256) if cap.sha256 else b""


def header(cap: Capture, name: str) -> str | None:
    return header_in(cap.headers or [], name)


def latest_file(
    s: Session, url: str, *, run_id: int | None = None, until: datetime | None = None
) -> tuple[str, int] | None:
    """(sha256, size) of the last attachment archived from `url` with HTTP 200, if any (only by run
    `run_id`, or only fetched at or before `until`, when given)."""
    q = select(Capture).where(
        Capture.url == url, Capture.kind == "attachment", Capture.status == 200, Capture.error.is_(None)
    )
    if run_id is not None:
        q = q.where(Capture.run_id == run_id)
    if until is not None:
        q = q.where(Capture.fetched_at <= until)
    cap = s.exec(q.order_by(Capture.fetched_at.desc(), Capture.id.desc())).first()
    return (cap.sha256, cap.size) if cap is not None and cap.sha256 else None
