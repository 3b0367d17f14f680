"""Each source's retry list: documents that failed (fetch or store) wait here, in the database, for the
next run (incremental too), which tries them first; after GIVE_UP_AFTER failed runs one is given up,
its last reason kept. Nothing that failed is forgotten because a list stopped early.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, select

from storage.models import RetryItem, utcnow
from storage.stamps import iso_ts

GIVE_UP_AFTER = 5


def waiting(s: Session, source_id: int) -> list[RetryItem]:
    return list(
        s.exec(
            select(RetryItem)
            .where(RetryItem.source_id == source_id, RetryItem.given_up_at.is_(None))
            .order_by(RetryItem.id)
        )
    )


def failed(
    s: Session,
    source_id: int,
    url: str,
    reason: str,
    *,
    list_title: str | None = None,
    list_date: str | None = None,
    list_meta: dict | None = None,
    recheck: bool = False,
) -> RetryItem:
    """One more failed try of `url`; given up at the GIVE_UP_AFTER-th."""
    now = utcnow()
    row = s.exec(select(RetryItem).where(RetryItem.source_id == source_id, RetryItem.url == url)).first() or RetryItem(
        source_id=source_id, url=url, first_failed_at=now
    )
    row.list_title, row.list_date = list_title or row.list_title, list_date or row.list_date
    row.list_meta, row.recheck = list_meta or row.list_meta, recheck
    row.tries, row.reason, row.last_failed_at = row.tries + 1, reason, now
    if row.tries >= GIVE_UP_AFTER and row.given_up_at is None:
        row.given_up_at = now
    s.add(row)
    return row


def done(s: Session, source_id: int, url: str) -> None:
    s.execute(delete(RetryItem).where(RetryItem.source_id == source_id, RetryItem.url == url))


def report(s: Session, source_id: int | None) -> dict:
    """For `xxgk sources`: how many wait, and the documents given up (url, tries, reason, when);
    nothing for a source not in the archive (`s` None: there is no archive yet)."""
    if s is None or source_id is None:
        return {"waiting": 0, "given_up": 0, "given_up_documents": []}
    rows = list(s.exec(select(RetryItem).where(RetryItem.source_id == source_id).order_by(RetryItem.id)))
    gave_up = [r for r in rows if r.given_up_at is not None]
    return {
        "waiting": len(rows) - len(gave_up),
        "given_up": len(gave_up),
        "given_up_documents": [
            {"url": r.url, "tries": r.tries, "reason": r.reason, "given_up_at": iso_ts(r.given_up_at)} for r in gave_up
        ],
    }
