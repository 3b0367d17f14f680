"""Reading the outbox: each watch's state, the event ledger (`xxgk events`), the events of a feed."""

from __future__ import annotations

from sqlalchemy import and_, exists
from sqlmodel import Session, select

from storage.models import Delivery, Event, Source, WatchEvent, WatchState
from storage.outbox import HEALTH, first_archive, first_crawls, unplanned
from storage.stamps import as_utc, iso_ts


def watch_summary(s: Session, name: str) -> dict:
    """Last delivery, messages pending and failing (pending after a failed try), events still to plan."""
    rows = s.exec(
        select(Delivery.status, Delivery.tries, Delivery.delivered_at, Delivery.last_error).where(
            Delivery.watch == name
        )
    ).all()
    last = max((as_utc(r.delivered_at) for r in rows if r.delivered_at), default=None)
    failing = [r for r in rows if r.status == "pending" and r.tries]
    state = s.get(WatchState, name)
    waiting = len(unplanned(s, state)) if state else 0
    return {
        "last_delivery": iso_ts(last),
        "delivered": sum(r.status == "delivered" for r in rows),
        "pending": sum(r.status == "pending" for r in rows),
        "failing": len(failing),
        "last_error": next((r.last_error for r in reversed(failing)), None),
        "events_waiting": waiting,
    }


def event_json(e: Event, source: str, first: bool = False) -> dict:
    d = e.detail or {}
    return {
        "event_id": e.id,
        "kind": e.kind,
        "source": source,
        "created_at": iso_ts(e.created_at),
        "index_no": d.get("index_no"),
        "title": d.get("title"),
        "url": d.get("url"),
        "version": e.version,
        "first_archive": first,
        **({"health": d} if e.kind == HEALTH else {}),
    }


def ledger(s: Session, watch: str | None = None, limit: int = 1000) -> list[dict]:
    """The outbox, newest first: each event and, per watch that took it, its message's status."""
    names = dict(s.exec(select(Source.id, Source.name)).all())
    q = select(Event).order_by(Event.id.desc()).limit(limit)
    if watch is not None:
        q = q.where(
            exists().where(WatchEvent.watch == watch, WatchEvent.event_id == Event.id, WatchEvent.batch.is_not(None))
        )
    events = list(s.exec(q))
    ids = [e.id for e in events]
    links: dict[int, list] = {}
    if ids:
        rows = s.exec(
            select(
                WatchEvent.event_id,
                WatchEvent.watch,
                Delivery.status,
                Delivery.tries,
                Delivery.delivered_at,
                Delivery.key,
            )
            .join(Delivery, and_(Delivery.batch == WatchEvent.batch, Delivery.watch == WatchEvent.watch))
            .where(WatchEvent.event_id.in_(ids))
            .order_by(Delivery.id)
        ).all()
        for r in rows:
            if watch is None or r.watch == watch:
                links.setdefault(r.event_id, []).append(
                    {
                        "watch": r.watch,
                        "status": r.status,
                        "tries": r.tries,
                        "key": r.key,
                        "delivered_at": iso_ts(r.delivered_at),
                    }
                )
    firsts = first_crawls(s)
    return [
        {**event_json(e, names.get(e.source_id, "?"), first_archive(e, firsts)), "deliveries": links.get(e.id, [])}
        for e in events
    ]


def watch_events(s: Session, watch: str, limit: int = 200) -> list[Event]:
    """The events that went into the watch's messages, newest first (its feed)."""
    return list(
        s.exec(
            select(Event)
            .join(WatchEvent, WatchEvent.event_id == Event.id)
            .where(WatchEvent.watch == watch, WatchEvent.batch.is_not(None))
            .order_by(Event.id.desc())
            .limit(limit)
        )
    )


def source_events(s: Session, source_id: int, limit: int = 200) -> list[Event]:
    return list(s.exec(select(Event).where(Event.source_id == source_id).order_by(Event.id.desc()).limit(limit)))
