"""What the outbox costs the write path, and how fast watches plan and render: numbers side by side.

1. apply_parse of N new documents (blob + capture + document + version + search index, batches of 500)
   with the outbox event written, and with `outbox.record` switched off, alternating rounds in one run;
2. planning those N events for a watch with no query and one with a query (reads each version's text),
   and rendering a message naming 200 documents.

    .venv/bin/python benchmarks/outbox_bench.py [--docs 3000] [--rounds 2] [--db sqlite|URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from loguru import logger

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PAGE = "<html><body><h1>{title}</h1><p>{body}</p></body></html>"


def write(root: Path, url: str, n: int, events: bool) -> float:
    import storage.archive as archive
    import storage.outbox as outbox
    from storage.archive import LocalBlobStore
    from storage.captures import archive_response
    from storage.db import open_database, session
    from storage.documents import Parsed, apply_parse
    from storage.models import Source

    archive.os.fsync = lambda fd: None  # the database's cost, not the disk's (as search_bench.py)
    record_event = outbox.record
    if not events:
        outbox.record = lambda *a, **k: None
    try:
        engine = open_database(url)
        store = LocalBlobStore(root / "archive")
        with session(engine) as s:
            s.add(Source(name="bench"))
            s.commit()
        started = time.perf_counter()
        for start in range(0, n, 500):
            with session(engine) as s:
                for i in range(start, min(n, start + 500)):
                    title, body = f"关于第{i}号生态环境事项的通知", f"第{i}段正文：推进生态环境保护。" * 20
                    cap = archive_response(
                        s,
                        store,
                        url=f"http://bench.example/{i}.html",
                        status=200,
                        body=PAGE.format(title=title, body=body).encode("utf-8"),
                        headers=[("content-type", "text/html")],
                        request_headers=[],
                        source_id=1,
                        kind="article",
                    )
                    rec = {
                        "index_no": f"bench/2025-{i:05d}",
                        "title": title,
                        "publisher": "县府办",
                        "publish_date": "2025-01-01",
                        "attachments": [],
                    }
                    apply_parse(
                        s,
                        source_id=1,
                        url=cap.url,
                        capture_id=cap.id,
                        parsed=Parsed(record=rec, body_text=body, content_hash=str(i), parser_version="1"),
                    )
                s.commit()
        seconds = time.perf_counter() - started
        engine.dispose()
        return seconds
    finally:
        outbox.record = record_event


def plan(url: str, n: int) -> None:
    from sqlmodel import select

    from schedules.notify import plan_watch, render
    from scraper.config import parse_config
    from storage.db import open_database, session
    from storage.models import CrawlRun, Event, WatchState

    cfg = parse_config(
        '[[sources]]\nname = "bench"\nstart_urls = ["http://bench.example/"]\n'
        '[[watches]]\nname = "all"\nnotify = ["json://127.0.0.1:9/x"]\n'
        '[[watches]]\nname = "query"\nquery = "生态环境 保护"\nnotify = ["json://127.0.0.1:9/x"]\n',
        "bench",
        Path("."),
        None,
    )
    engine = open_database(url)
    for watch in cfg.watches:
        with session(engine) as s:
            s.add(WatchState(name=watch.name, since_event_id=0))
            s.commit()
            started = time.perf_counter()
            made = plan_watch(s, cfg, watch)
            s.commit()
            seconds = time.perf_counter() - started
        print(
            f"plan {n:,} events, watch {watch.name!r:8}: {seconds:6.2f} s  ({n / seconds:8,.0f} events/s), "
            f"{made} message(s)"
        )
    with session(engine) as s:
        s.add(CrawlRun(source_id=1, status="ok", started_at=EPOCH, finished_at=EPOCH))  # not a first archive
        rows = list(s.exec(select(Event).limit(200)))
        started = time.perf_counter()
        _title, body = render(s, cfg.watches[0], rows, {1: "bench"}, {1: None}, digest=False)
        print(
            f"render a message naming {len(rows)} documents: {(time.perf_counter() - started) * 1000:.0f} ms, "
            f"{len(body.encode()):,} bytes"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL URL (each round in a fresh schema)")
    args = ap.parse_args()
    logger.remove()
    times = {True: [], False: []}
    schemas: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                for events in (False, True):
                    root = Path(tmp) / f"{r}-{events}"
                    url = f"sqlite:///{root}/xxgk.db" if args.db == "sqlite" else fresh_pg(args.db, schemas)
                    times[events].append(write(root, url, args.docs, events))
                    if events and r == args.rounds - 1:
                        plan(url, args.docs)
    finally:
        drop_pg(args.db, schemas)
    best = {k: min(v) for k, v in times.items()}
    print(
        f"apply_parse, {args.docs:,} new documents ({args.db.split(':')[0]}), best of {args.rounds}: "
        f"without events {args.docs / best[False]:,.0f} docs/s, with events {args.docs / best[True]:,.0f} docs/s, "
        f"ratio {best[True] / best[False]:.2f}"
    )


def fresh_pg(admin: str, schemas: list[str]) -> str:
    import uuid

    import sqlalchemy

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with sqlalchemy.create_engine(admin, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    schemas.append(schema)
    return f"{admin}{'&' if '?' in admin else '?'}options=-csearch_path%3D{schema}"


def drop_pg(admin: str, schemas: list[str]) -> None:
    import sqlalchemy

    if schemas:
        with sqlalchemy.create_engine(admin, isolation_level="AUTOCOMMIT").connect() as conn:
            for schema in schemas:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
