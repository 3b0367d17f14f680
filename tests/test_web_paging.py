"""Keyset paging of the document listing (`/api/v1/documents?cursor=`, the source pages) across dated and
undated documents, on both databases: every document once, in `ls` order."""

from __future__ import annotations

import datetime as dt

from storage.archive import LocalBlobStore
from storage.captures import archive_response
from storage.db import open_database, session
from storage.documents import Parsed, apply_parse
from storage.models import Source
from web.reads import document_page


def test_pages_cover_dated_then_undated_documents_once_each(tmp_path, db_url):
    engine = open_database(db_url)
    store = LocalBlobStore(tmp_path / "archive")
    when = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    with session(engine) as s:
        s.add(Source(name="s"))
        s.commit()
        for i in range(23):  # dates repeat (ties broken by id); every third has none
            date = None if i % 3 == 0 else f"2024-0{1 + i % 4}-01"
            url = f"http://example.gov.cn/art/{i}.html"
            cap = archive_response(
                s,
                store,
                url=url,
                status=200,
                body=f"<p>{i}</p>".encode(),
                headers=[],
                request_headers=[],
                fetched_at=when,
                source_id=1,
                kind="article",
            )
            record = {
                "index_no": f"X/2024-{i:05d}",
                "title": f"文件{i}",
                "publish_date": date,
                "fields": {},
                "attachments": [],
            }
            apply_parse(
                s,
                source_id=1,
                url=url,
                capture_id=cap.id,
                seen_at=when,
                parsed=Parsed(record=record, body_text="", content_hash=str(i), parser_version="1"),
            )
        s.commit()
    everything, _ = document_page(engine, limit=100)
    got, cursor = [], None
    while True:
        rows, cursor = document_page(engine, limit=4, cursor=cursor)
        got += rows
        if cursor is None:
            break
    assert [r["index_no"] for r in got] == [r["index_no"] for r in everything]
    assert len(got) == 23 and sum(r["publish_date"] is None for r in got) == 8
    dates = [r["publish_date"] for r in got]
    assert dates[:15] == sorted(dates[:15], reverse=True) and dates[15:] == [None] * 8
    engine.dispose()
