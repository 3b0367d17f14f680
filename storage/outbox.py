"""The outbox: events written in the transaction of the change that causes them, and their deliveries.

`record` is the one call the write path makes (a new document, a new version, a withdrawal, a health
change), with the session of that transaction: the event exists if and only if the change does.
Everything else here is the ledger schedules/notify.py plans and delivers from:

- each event is looked at once per watch (watch_events' primary key: two planners cannot both take
  it), and goes into one message (a batch) or none;
- a message is rendered once into one delivery row per notify URL, with its own key; sending claims
  the row for a while (a dead sender's claim lapses), and a row recorded delivered is never sent again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, update
from sqlmodel import Session, select

from storage.models import CrawlRun, Delivery, Document, Event, WatchEvent, WatchState, utcnow
from storage.stamps import as_utc

NEW, CHANGED, WITHDRAWN, HEALTH = "new", "changed", "withdrawn", "health"
KINDS = (NEW, CHANGED, WITHDRAWN, HEALTH)
FINISHED_OK = ("ok", "partial")


def record(
    s: Session,
    kind: str,
    doc: Document | None = None,
    *,
    source_id: int | None = None,
    detail: dict | None = None,
) -> None:
    """Add the event for `doc` (new / changed / withdrawn) or a source's health change, in `s`'s transaction:
    one row insert, no reads (what the message says of the document is copied from `doc` now)."""
    info = dict(detail or {})
    if doc is not None:
        source_id = doc.source_id
        info.update(
            index_no=doc.index_no,
            title=doc.title,
            publisher=doc.publisher,
            publish_date=doc.publish_date,
            doc_no=doc.doc_no,
            url=doc.url,
        )
    s.add(
        Event(
            kind=kind,
            source_id=source_id,
            document_id=doc.id if doc is not None else None,
            version=doc.version if doc is not None else None,
            detail=info,
        )
    )


def first_crawls(s: Session) -> dict[int, datetime]:
    """source id -> when its first crawl that ended ok or partial finished (sources without one: absent)."""
    return {
        sid: as_utc(at)
        for sid, at in s.exec(
            select(CrawlRun.source_id, func.min(CrawlRun.finished_at))
            .where(CrawlRun.status.in_(FINISHED_OK), CrawlRun.finished_at.is_not(None))
            .group_by(CrawlRun.source_id)
        )
    }


def first_archive(e: Event, firsts: dict[int, datetime]) -> bool:
    """A new document found before its source ever finished a crawl: messages summarise those ("first
    archive: N documents") instead of naming each."""
    done = firsts.get(e.source_id)
    return e.kind == NEW and (done is None or as_utc(e.created_at) < done)


# -- planning ---------------------------------------------------------------------------------
def watch_state(s: Session, name: str) -> WatchState:
    """The watch's row, made the first time it is seen: from then on, events are its business."""
    row = s.get(WatchState, name)
    if row is None:
        last = s.exec(select(func.max(Event.id))).one() or 0
        row = WatchState(name=name, since_event_id=last)
        s.add(row)
        s.flush()
    return row


def unplanned(s: Session, state: WatchState, limit: int = 5000) -> list[Event]:
    """Events after the watch was first seen and not yet looked at for it, oldest first; those of a
    source being crawled now wait for its run to end (one message per run)."""
    looked = exists().where(WatchEvent.watch == state.name, WatchEvent.event_id == Event.id)
    running = exists().where(CrawlRun.source_id == Event.source_id, CrawlRun.status == "running")
    return list(
        s.exec(select(Event).where(Event.id > state.since_event_id, ~looked, ~running).order_by(Event.id).limit(limit))
    )


def plan(
    s: Session, watch: str, matched: list[Event], unmatched: list[Event], batch: str | None, messages: list[Delivery]
) -> None:
    """Record that `matched` went into `batch` (its deliveries `messages`) and `unmatched` into none."""
    s.add_all([WatchEvent(watch=watch, event_id=e.id, batch=batch) for e in matched])
    s.add_all([WatchEvent(watch=watch, event_id=e.id, batch=None) for e in unmatched])
    s.add_all(messages)
    s.flush()


# -- delivering -------------------------------------------------------------------------------
def due(s: Session, now: datetime | None = None, watches: list[str] | None = None) -> list[Delivery]:
    now = now or utcnow()
    q = select(Delivery).where(
        Delivery.status == "pending",
        Delivery.next_try_at <= now,
        or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
    )
    if watches is not None:
        q = q.where(Delivery.watch.in_(watches))
    return list(s.exec(q.order_by(Delivery.id)))


def claim(s: Session, delivery_id: int, holder: str, seconds: float) -> bool:
    """Take the delivery for `seconds` (compare-and-set: one sender at a time); False if another has it."""
    now = utcnow()
    res = s.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == "pending",
            or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
        )
        .values(claimed_by=holder, claimed_until=now + timedelta(seconds=seconds))
    )
    return res.rowcount == 1


def delivered(s: Session, delivery_id: int, holder: str) -> None:
    s.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.claimed_by == holder)
        .values(
            status="delivered",
            delivered_at=utcnow(),
            tries=Delivery.tries + 1,
            claimed_by=None,
            claimed_until=None,
            last_error=None,
        )
    )


def failed(s: Session, delivery_id: int, holder: str, error: str, retry_in: float) -> None:
    s.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.claimed_by == holder)
        .values(
            tries=Delivery.tries + 1,
            last_error=error[:2000],
            claimed_by=None,
            claimed_until=None,
            next_try_at=utcnow() + timedelta(seconds=retry_in),
        )
    )
