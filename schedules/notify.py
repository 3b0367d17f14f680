"""Watches: plan the outbox's events into messages, and deliver them through Apprise, exactly once.

Whoever runs crawls delivers: `xxgk crawl` at the end of its run, the daemon every few seconds, a
queue worker after each job. Each pass:

1. plans, per watch, the events it has not looked at (storage/outbox.py): those that match (event
   kind, source, search terms) go into one message per source and run ("digest = off"), or into one
   digest per cron slot; a source's first crawl is one summary line, not a line per document. The
   message is rendered once, into one delivery per notify URL, each with its own stable key;
2. sends the deliveries that are due: claimed first (one sender at a time; a dead sender's claim
   lapses after CLAIM_SECONDS), recorded delivered at once, else retried with doubling backoff, never
   given up. Webhooks carry the key as `Idempotency-Key`; emails carry it as their Message-ID, so a
   message sent by a sender killed before it could record it is recognisably the same when sent again.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import logging
import random
import threading
import uuid
from collections.abc import Iterable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from loguru import logger
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from scraper.config import Config, WatchConfig, parse_schedule, redact
from storage import outbox, retry
from storage.db import read_session, session
from storage.history import timeline
from storage.models import Delivery, Document, DocumentVersion, Event, Source, WatchState, utcnow
from storage.outbox import first_archive
from storage.search import normalise, parse_query
from storage.stamps import as_utc

CLAIM_SECONDS = 30.0  # a sender killed mid-send holds its delivery this long, then anyone retries it
NOTIFY_SECONDS = 2.0  # the daemon's delivery pass
MAX_LISTED = 200  # documents named in one message; the rest are counted
BODY_LINES = 4  # changed body lines quoted per document
HEADERS = ("Idempotency-Key", "X-Xxgk-Key")


def target_id(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def targets(watch: WatchConfig) -> dict[str, str]:
    return {target_id(u): u for u in watch.notify}


def message_id(key: str) -> str:
    return f"<{key}@xxgk-archive>"


# -- matching ---------------------------------------------------------------------------------
def _texts(s: Session, events: list[Event]) -> dict[int, str]:
    """event id -> the normalised title and body of its version, read in batches."""
    out: dict[int, str] = {}
    for i in range(0, len(events), 500):
        chunk = [e for e in events[i : i + 500] if e.document_id is not None]
        want = {(e.document_id, e.version): e.id for e in chunk}
        rows = s.exec(
            select(
                DocumentVersion.document_id, DocumentVersion.version, DocumentVersion.record, DocumentVersion.body_text
            ).where(DocumentVersion.document_id.in_({e.document_id for e in chunk}))
        )
        for r in rows:
            if (r.document_id, r.version) in want:
                out[want[r.document_id, r.version]] = normalise(f"{(r.record or {}).get('title') or ''}\n{r.body_text}")
    return out


def matching(s: Session, watch: WatchConfig, events: list[Event], names: dict[int, str]) -> set[int]:
    """The ids of the events the watch takes: its event kinds, its sources, all its search terms."""
    hits = [
        e for e in events if e.kind in watch.events and (watch.sources is None or names[e.source_id] in watch.sources)
    ]
    if not watch.query:
        return {e.id for e in hits}
    terms = parse_query(watch.query)
    texts = _texts(s, [e for e in hits if e.kind != outbox.HEALTH])
    return {e.id for e in hits if e.kind == outbox.HEALTH or all(t in texts.get(e.id, "") for t in terms)}


# -- rendering --------------------------------------------------------------------------------
def _body_lines(s: Session, e: Event) -> list[str]:
    vers = {
        v.version: v
        for v in s.exec(
            select(DocumentVersion).where(
                DocumentVersion.document_id == e.document_id, DocumentVersion.version.in_((e.version - 1, e.version))
            )
        )
    }
    if len(vers) < 2:
        return []
    old, new = (vers[e.version - 1].body_text or "").splitlines(), (vers[e.version].body_text or "").splitlines()
    diff = [
        ln
        for ln in difflib.unified_diff(old, new, n=0, lineterm="")
        if ln[:1] in "+-" and not ln.startswith(("+++", "---"))
    ]
    return [f"    {ln[0]} {ln[1:][:200]}" for ln in diff[:BODY_LINES]] + (
        [f"    … {len(diff) - BODY_LINES} more lines"] if len(diff) > BODY_LINES else []
    )


def _changes(s: Session, e: Event) -> list[str]:
    """What changed from the version before: fields, body lines, files (storage/history.py's diff)."""
    doc = s.get(Document, e.document_id)
    entry = next((t for t in timeline(s, doc) if t["version"] == e.version), None) if doc else None
    if entry is None or entry["body"] is None:
        return []
    out = []
    if entry["fields_changed"]:
        out.append(
            "  fields: " + "; ".join(f"{c['field']}: {c['old']!r} → {c['new']!r}" for c in entry["fields_changed"])
        )
    if entry["body"]["changed"]:
        out.append(f"  body: +{entry['body']['lines_added']} −{entry['body']['lines_removed']} lines")
        out += _body_lines(s, e)
    files = (
        [f"added {a['name']}" for a in entry["attachments_added"]]
        + [f"removed {a['name']}" for a in entry["attachments_removed"]]
        + [f"replaced {a['name']} (new sha256 {str(a['new_sha256'])[:12]})" for a in entry["attachments_replaced"]]
    )
    if files:
        out.append("  files: " + "; ".join(files))
    return out


def describe(s: Session, e: Event, source: str) -> list[str]:
    """The lines naming one event: kind, 索引号, title, publisher, date, URL, and what changed."""
    d = e.detail or {}
    if e.kind == outbox.HEALTH:
        return [f"[health] {source}: {d.get('from')} → {d.get('to')}" + (f": {d['reason']}" if d.get("reason") else "")]
    head = f"[{e.kind}" + (f" v{e.version}" if e.kind == outbox.CHANGED else "") + "]"
    lines = [
        f"{head} 索引号 {d.get('index_no') or '(none)'}",
        f"  标题 {d.get('title') or ''}",
        f"  发布机构 {d.get('publisher') or ''} · 发布日期 {d.get('publish_date') or ''}"
        + (f" · 文号 {d['doc_no']}" if d.get("doc_no") else ""),
        f"  {d.get('url') or ''}",
    ]
    if e.kind == outbox.CHANGED:
        lines += _changes(s, e)
    return lines


def render(
    s: Session,
    watch: WatchConfig,
    events: list[Event],
    names: dict[int, str],
    titles: dict[int, str | None],
    digest: bool,
) -> tuple[str, str]:
    counts: dict[str, int] = {}
    for e in events:
        counts[e.kind] = counts.get(e.kind, 0) + 1
    sources = sorted({names[e.source_id] for e in events})
    what = ", ".join(f"{n} {k}" for k, n in counts.items())
    title = f"xxgk {watch.name}: {'digest: ' if digest else ''}{', '.join(sources)}: {what}"
    lines = [f"watch {watch.name}" + (f" (search: {watch.query})" if watch.query else "")]
    firsts = outbox.first_crawls(s)
    for sid in sorted({e.source_id for e in events}):
        mine = [e for e in events if e.source_id == sid]
        lines += ["", f"source {names[sid]}" + (f" · {titles[sid]}" if titles.get(sid) else "")]
        first = [e for e in mine if first_archive(e, firsts)]
        if first:
            lines.append(f"first archive: {len(first)} documents (xxgk ls --source {names[sid]})")
        rest = [e for e in mine if not first_archive(e, firsts)]
        for e in rest[:MAX_LISTED]:
            lines += describe(s, e, names[sid])
        if len(rest) > MAX_LISTED:
            lines.append(f"… and {len(rest) - MAX_LISTED} more (xxgk events --watch {watch.name})")
    return title, "\n".join(lines) + "\n"


# -- planning ---------------------------------------------------------------------------------
def digest_due(watch: WatchConfig, state, tz: str, now: datetime) -> bool:
    if watch.digest == "off":
        return True
    anchor = as_utc(state.last_digest_at or state.created_at)
    kind, value = parse_schedule(watch.digest, tz)
    if kind == "interval":
        return now >= anchor + timedelta(seconds=value)
    nxt = value.get_next_fire_time(None, anchor)
    return nxt is not None and now >= nxt


def plan_watch(s: Session, cfg: Config, watch: WatchConfig, now: datetime | None = None) -> int:
    """Plan the watch's new events into messages (in `s`, not committed). Returns the messages made."""
    now = now or utcnow()
    state = outbox.watch_state(s, watch.name)
    if not digest_due(watch, state, cfg.settings.timezone, now):
        return 0
    events = outbox.unplanned(s, state)
    if watch.digest != "off":
        state.last_digest_at = now
        s.add(state)
    if not events:
        return 0
    rows = s.exec(select(Source.id, Source.name, Source.title)).all()
    names, titles = {r.id: r.name for r in rows}, {r.id: r.title for r in rows}
    hits = matching(s, watch, events, names)
    matched, unmatched = [e for e in events if e.id in hits], [e for e in events if e.id not in hits]
    groups = (
        [matched]
        if watch.digest != "off"
        else [[e for e in matched if e.source_id == sid] for sid in sorted({e.source_id for e in matched})]
    )
    outbox.plan(s, watch.name, [], unmatched, None, [])
    for group in (g for g in groups if g):
        batch = uuid.uuid4().hex
        title, body = render(s, watch, group, names, titles, digest=watch.digest != "off")
        messages = [
            Delivery(
                watch=watch.name,
                batch=batch,
                target=tid,
                key=f"xxgk-{watch.name}-{uuid.uuid4().hex}",
                title=title,
                body=body,
                events=len(group),
                next_try_at=now,
            )
            for tid in targets(watch)
        ]
        outbox.plan(s, watch.name, group, [], batch, messages)
    return sum(1 for g in groups if g)


# -- sending ----------------------------------------------------------------------------------
_email_lock = threading.Lock()


@contextmanager
def _stable_message_id(msgid: str):
    """Apprise makes a fresh Message-ID per email; ours is the delivery's key, the same on every retry."""
    import apprise.plugins.email.base as email_base

    with _email_lock:
        made = email_base.make_msgid
        email_base.make_msgid = lambda *a, **k: msgid
        try:
            yield
        finally:
            email_base.make_msgid = made


def send(url: str, title: str, body: str, key: str) -> str | None:
    """Send one message through Apprise now. None when the service took it, else why not (one line)."""
    import apprise
    from apprise.plugins.email import NotifyEmail

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        return f"Apprise cannot parse {redact(url)}"
    if isinstance(getattr(plugin, "headers", None), dict):
        plugin.headers.update({h: key for h in HEADERS})
    box = apprise.Apprise()
    box.add(plugin)
    email = isinstance(plugin, NotifyEmail)
    with (
        apprise.LogCapture(level=logging.WARNING) as logs,
        _stable_message_id(message_id(key)) if email else nullcontext(),
    ):
        ok = box.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    if ok:
        return None
    said = [ln.split(" - ", 2)[-1] for ln in logs.getvalue().splitlines() if ln.strip()]
    return f"{redact(url)}: " + ("; ".join(said[-2:]) or "not delivered")


@dataclass
class Report:
    planned: int = 0
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _retry_in(cfg: Config, tries: int) -> float:
    st = cfg.settings
    return min(st.notify_backoff * 2**tries, st.notify_backoff_max) * random.uniform(0.8, 1.2)


def _txn(engine: Engine, fn):
    def run():
        with session(engine) as s:
            out = fn(s)
            s.commit()
            return out

    return retry.call(engine, run)


def register_watches(cfg: Config, engine: Engine) -> None:
    """Note the watches not seen before, before a crawl writes events: theirs from then on."""
    for watch in cfg.watches:
        try:
            _txn(engine, lambda s, w=watch: outbox.watch_state(s, w.name))
        except IntegrityError:
            pass  # another process noted it just now


def _needs_planning(s: Session, cfg: Config, watch: WatchConfig, now: datetime) -> bool:
    state = s.get(WatchState, watch.name)
    if state is None:
        return True
    if not digest_due(watch, state, cfg.settings.timezone, now):
        return False
    return watch.digest != "off" or bool(outbox.unplanned(s, state, limit=1))


def _read(engine: Engine, fn):
    def run():
        with read_session(engine) as s:
            return fn(s)

    return retry.call(engine, run)


def plan_all(cfg: Config, engine: Engine, watches: Iterable[WatchConfig] | None = None) -> int:
    """Plan each watch that has something to plan (looked at first in a read: the daemon's pass every
    few seconds takes no write lock when there is nothing new)."""
    planned, now = 0, utcnow()
    watches = list(cfg.watches if watches is None else watches)
    todo = _read(engine, lambda s: [w for w in watches if _needs_planning(s, cfg, w, now)])
    for watch in todo:
        try:
            planned += _txn(engine, lambda s, w=watch: plan_watch(s, cfg, w))
        except IntegrityError:
            logger.debug("watch {}: planned by another process just now", watch.name)
    return planned


def deliver(cfg: Config, engine: Engine, holder: str, watches: list[WatchConfig] | None = None) -> Report:
    """One pass: plan what is new, then send every delivery that is due. Blocking (Apprise is)."""
    watches = list(cfg.watches if watches is None else watches)
    report = Report()
    if not watches:
        return report
    report.planned = plan_all(cfg, engine, watches)
    by_name = {w.name: w for w in watches}
    rows = _read(engine, lambda s: outbox.due(s, watches=list(by_name)))
    for row in rows:
        if not _txn(engine, lambda s, i=row.id: outbox.claim(s, i, holder, CLAIM_SECONDS)):
            continue  # another sender has it
        url = targets(by_name[row.watch]).get(row.target)
        error = (
            send(url, row.title, row.body, row.key)
            if url
            else (f"the notify URL of this message is no longer in watch {row.watch!r}")
        )
        if error is None:
            _txn(engine, lambda s, i=row.id: outbox.delivered(s, i, holder))
            report.sent += 1
            logger.info("watch {}: delivered {} ({} events) to {}", row.watch, row.key, row.events, redact(url))
        else:
            wait = _retry_in(cfg, row.tries)
            _txn(engine, lambda s, i=row.id, e=error, w=wait: outbox.failed(s, i, holder, e, w))
            report.failed += 1
            report.errors.append(error)
            logger.warning(
                "watch {}: {} not delivered (try {}), again in {:.0f}s: {}",
                row.watch,
                row.key,
                row.tries + 1,
                wait,
                error,
            )
    return report


async def deliver_async(cfg: Config, engine: Engine, holder: str) -> Report:
    return await asyncio.to_thread(deliver, cfg, engine, holder)


def deliver_or_log(cfg: Config, engine: Engine, holder: str) -> Report | None:
    """A pass after a crawl (foreground, queue worker): a failure is logged, never the crawl's failure."""
    if not cfg.watches:
        return None
    try:
        return deliver(cfg, engine, holder)
    except Exception as exc:  # noqa: BLE001 - what is not delivered now is delivered by the next pass
        retry.noted(exc, "delivering notifications")
        return None


async def deliver_quietly(cfg: Config, engine: Engine, holder: str) -> Report | None:
    return await asyncio.to_thread(deliver_or_log, cfg, engine, holder)


async def deliver_forever(config, engine: Engine, holder: str, period: float = NOTIFY_SECONDS) -> None:
    """The daemon's delivery loop; `config()` is the config now (it may be reloaded)."""
    while True:
        cfg = config()
        if cfg.watches:
            try:
                await deliver_async(cfg, engine, holder)
            except Exception as exc:  # noqa: BLE001 - the loop outlives a database outage or a bad pass
                retry.noted(exc, "delivering notifications")
        await asyncio.sleep(period)


def send_test(watch: WatchConfig) -> list[tuple[str, str | None]]:
    """`xxgk watches test NAME`: a sample message to each notify URL now; (URL, error or None) each."""
    key = f"xxgk-{watch.name}-test-{uuid.uuid4().hex}"
    title = f"xxgk {watch.name}: test message"
    body = (
        f"watch {watch.name}: a test message from xxgk-archive.\n"
        f"events: {', '.join(watch.events)}; sources: {', '.join(watch.sources or ['every source'])}; "
        f"search: {watch.query or '(every document)'}; digest: {watch.digest}\n\n"
        "[new] 索引号 000000000/2025-00001\n  标题 (a sample document)\n  发布机构 xxgk · 发布日期 2025-01-01\n"
    )
    return [(redact(u), send(u, title, body, key)) for u in watch.notify]
