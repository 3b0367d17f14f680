"""Atom feeds from the outbox (feedgen): per source (every event of it) and per watch (what it matched).

`xxgk export --format atom` and the web's /feeds/… routes both come here. Entry ids are the events'
(urn:xxgk:event:N): stable, so a feed reader shows each event once.
"""

from __future__ import annotations

from feedgen.feed import FeedGenerator
from sqlmodel import Session, select

from schedules.notify import describe
from scraper.config import Config
from storage.models import Event, Source
from storage.outbox_reads import source_events, watch_events
from storage.stamps import as_utc

LIMIT = 200


def _feed(
    s: Session,
    feed_id: str,
    title: str,
    subtitle: str,
    events: list[Event],
    names: dict[int, str],
    base_url: str | None,
) -> bytes:
    fg = FeedGenerator()
    fg.id(feed_id)
    fg.title(title)
    fg.subtitle(subtitle)
    fg.author({"name": "xxgk-archive"})
    fg.link(href=base_url or "urn:xxgk", rel="self" if base_url else "alternate")
    fg.language("zh-CN")
    fg.updated(as_utc(events[0].created_at) if events else as_utc(s.exec(select(Source.created_at)).first()))
    for e in reversed(events):  # feedgen puts the last added first
        d, name = e.detail or {}, names.get(e.source_id, "?")
        entry = fg.add_entry()
        entry.id(f"urn:xxgk:event:{e.id}")
        head = (
            f"[health] {name}: {d.get('from')} → {d.get('to')}"
            if e.kind == "health"
            else f"[{e.kind}] {d.get('index_no') or ''} {d.get('title') or ''}".replace("  ", " ")
        )
        entry.title(head.strip())
        entry.updated(as_utc(e.created_at))
        entry.published(as_utc(e.created_at))
        entry.category(term=e.kind)
        if d.get("url"):
            entry.link(href=d["url"])
        entry.content("\n".join(describe(s, e, name)), type="text")
    return fg.atom_str(pretty=True)


def source_feed(s: Session, name: str, base_url: str | None = None) -> bytes | None:
    """The source's events, newest first; None when no source has that name in the archive."""
    src = s.exec(select(Source).where(Source.name == name)).first()
    if src is None:
        return None
    return _feed(
        s,
        f"urn:xxgk:source:{name}",
        f"xxgk · {src.title or name}",
        f"documents new, changed and withdrawn on {name}",
        source_events(s, src.id, LIMIT),
        {src.id: name},
        base_url,
    )


def watch_feed(s: Session, cfg: Config, name: str, base_url: str | None = None) -> bytes:
    """What the watch matched, newest first (raises ConfigError for an unknown watch)."""
    watch = cfg.watch(name)
    names = dict(s.exec(select(Source.id, Source.name)).all())
    return _feed(
        s,
        f"urn:xxgk:watch:{name}",
        f"xxgk watch · {name}",
        f"search: {watch.query or 'every document'}; events: {', '.join(watch.events)}",
        watch_events(s, name, LIMIT),
        names,
        base_url,
    )
