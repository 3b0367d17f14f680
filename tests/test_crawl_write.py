"""The crawl's Core write path (storage/crawl_write.py) writes exactly the rows apply_parse writes.

The same story (new documents, a second URL, unchanged and changed pages, a withdrawal and a return,
a page that gains an 索引号, a version from an older parser) is recorded twice, on two fresh
databases of the same kind: once through apply_parse alone, once through record_core (apply_parse
only where record_core declines). Every row of every table it touches must be the same."""

from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy
from conftest import fresh_pg_schema
from sqlmodel import select

from storage import search, write_batch
from storage.archive import LocalBlobStore, sha256_hex
from storage.captures import archive_response
from storage.crawl_write import insert_capture, record_core
from storage.db import open_database, session
from storage.documents import CHANGED, NEW, UNCHANGED, Parsed, apply_parse, mark_gone
from storage.models import Attachment, Blob, Capture, Document, DocumentUrl, DocumentVersion, Event, Source

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
CORE_STEPS: list[int] = []
FILE = b"%PDF-1.4 f1"
FILE_SHA = sha256_hex(FILE)  # the steps record_core wrote itself


def page(index_no, title, body, parser="1", files=()):
    rec = {
        "index_no": index_no,
        "title": title,
        "doc_no": "开政办〔2025〕3号",
        "publisher": "县府办",
        "publish_date": "2025-03-05",
        "fields": {"索引号": index_no or ""},
        "attachments": [
            {"name": f"附件{i}.pdf", "url": u, "sha256": FILE_SHA, "size": len(FILE)} for i, u in enumerate(files)
        ],
    }
    h = f"{index_no}|{title}|{body}|{len(files)}"
    return Parsed(record=rec, body_text=body, content_hash=h, parser_version=parser)


STORY = [  # (url, parsed, list values) in crawl order; None: the URL answers 404 (mark_gone)
    (
        "http://h/a1.html",
        page("A-1", "通知一", "正文一", files=["http://h/f1.pdf"]),
        ("通知一", "2025-03-05", {"索引号": "A-1"}),
    ),
    ("http://h/a1.html", page("A-1", "通知一", "正文一", files=["http://h/f1.pdf"]), ("通知一", "2025-03-05", None)),
    ("http://h/a1b.html", page("A-1", "通知一", "正文一", files=["http://h/f1.pdf"]), (None, None, None)),
    ("http://h/a1.html", page("A-1", "通知一（修订）", "正文一改", files=[]), ("通知一", None, None)),
    ("http://h/a1b.html", page("A-1", "通知一", "正文一", files=["http://h/f1.pdf"]), (None, None, None)),
    ("http://h/n1.html", page(None, "无索引号", "正文二"), ("无索引号", "2025-03-06", {})),
    ("http://h/n1.html", None, None),
    ("http://h/n1.html", page(None, "无索引号", "正文二"), (None, None, None)),
    ("http://h/n1.html", page("B-2", "有了索引号", "正文二"), (None, None, None)),
    ("http://h/c1.html", page("C-3", "旧解析", "正文三", parser="0"), (None, None, None)),
    ("http://h/c1.html", page("C-3", "新解析", "正文三新", parser="1"), (None, None, None)),
    ("http://h/a1.html", page("B-2", "换了文档", "正文四"), (None, None, None)),
]


def play(url_: str, tmp, fast: bool, batched: int = 0) -> tuple[list[str | None], dict]:
    """The story, a transaction a step; `batched`: all of it in one transaction, the Core rows in one
    write batch for that many units (as the group writer opens it), written when another statement runs."""
    engine = open_database(url_)
    store = LocalBlobStore(tmp / "archive")
    with session(engine) as s:
        s.add(Source(name="kaihua"))
        s.commit()
        archive_response(
            s, store, url="http://h/f1.pdf", status=200, body=FILE, headers=[], kind="attachment", fetched_at=T0
        )
        s.commit()
    outcomes: list[str | None] = []
    one = session(engine) if batched else None
    if one is not None:
        write_batch.hook(engine)
        write_batch.begin(one, batched)
    for n, (url, parsed, listed) in enumerate(STORY):
        at = T0 + timedelta(minutes=n)
        with nullcontext(one) if one is not None else session(engine) as s:
            if parsed is None:
                mark_gone(s, url)
                outcomes.append("gone")
                if one is None:
                    s.commit()
                continue
            title, date, meta = listed
            body = f"{url} {n}".encode()
            if fast:
                cap = insert_capture(
                    s.connection(), store.put(body), url=url, status=200, headers=[], source_id=1, fetched_at=at
                )
            else:
                cap = archive_response(s, store, url=url, status=200, body=body, headers=[], source_id=1, fetched_at=at)
            args = dict(
                source_id=1,
                url=url,
                capture_id=cap.id,
                parsed=parsed,
                list_title=title,
                list_date=date,
                list_meta=meta,
                seen_at=at,
            )
            done = record_core(s.connection(), **args) if fast else None
            if done is not None:
                CORE_STEPS.append(n)
            else:
                done = apply_parse(s, **args)
            outcomes.append(done[0])
            if one is None:
                s.commit()
            else:
                s.flush()  # as the group writer after each unit
                s.expire_all()  # ORM objects of earlier steps predate Core's rows (the crawl: _forget_documents)
    if one is not None:
        one.info[write_batch.KEY].flush()
        write_batch.end(one)
        one.commit()
        one.close()
    with session(engine) as s:
        tables = {
            m.__tablename__: [
                {k: v for k, v in row.model_dump().items() if k != "created_at"}
                for row in s.exec(select(m).order_by(*m.__table__.primary_key.columns))
            ]
            for m in (Blob, Capture, Document, DocumentUrl, DocumentVersion, Attachment, Event)
        }
        conn = s.connection()
        tables["search_text"] = [tuple(r) for r in conn.execute(sqlalchemy.select(search.ST).order_by("document_id"))]
        tables["search"] = {q: search_ids(conn, q) for q in ("正文一改", "正文三新", "无索引号", "换了文档")}
    engine.dispose()
    return outcomes, tables


def search_ids(conn, q: str) -> list[int]:
    if conn.dialect.name == "sqlite":
        sql = "SELECT rowid FROM search_trigram WHERE search_trigram MATCH :q ORDER BY rowid"
    else:
        sql = "SELECT document_id FROM search_text WHERE body LIKE '%' || :q || '%' ORDER BY document_id"
    return [r[0] for r in conn.execute(sqlalchemy.text(sql), {"q": f'"{q}"' if conn.dialect.name == "sqlite" else q})]


@pytest.fixture
def twin(db_url, tmp_path):
    """A second fresh database of the same kind as db_url."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/twin/xxgk.db"
        return
    yield from fresh_pg_schema()


def test_core_path_writes_the_rows_apply_parse_writes(db_url, twin, tmp_path):
    CORE_STEPS.clear()
    orm_outcomes, orm_rows = play(db_url, tmp_path / "orm", fast=False)
    core_outcomes, core_rows = play(twin, tmp_path / "core", fast=True)
    assert orm_outcomes == [
        NEW,
        UNCHANGED,
        UNCHANGED,
        CHANGED,
        UNCHANGED,
        NEW,
        "gone",
        UNCHANGED,
        CHANGED,
        NEW,
        CHANGED,
        CHANGED,
    ]
    assert core_outcomes == orm_outcomes
    # Core wrote the common steps; the 索引号 gained, the older parser and the URL moving went to apply_parse
    assert CORE_STEPS == [0, 1, 2, 3, 4, 5, 7, 9]
    for table in orm_rows:
        assert core_rows[table] == orm_rows[table], table
    docs = {d["doc_key"]: d for d in core_rows["documents"]}
    assert "reappeared" in docs["B-2"]["flags"]  # the URL-keyed document came back, then took its 索引号
    assert [e["kind"] for e in core_rows["events"]] == [
        "new",
        "changed",
        "new",
        "withdrawn",
        "changed",
        "new",
        "changed",
        "changed",
    ]
    assert core_rows["search"]["正文一改"] and core_rows["search"]["正文三新"]


def test_one_write_batch_for_the_whole_story_writes_the_same_rows(db_url, twin, tmp_path):
    """The group writer's way: the Core rows of many documents held in one batch, written together or
    before any other statement (mark_gone, apply_parse) reads them. PostgreSQL takes ids from its
    sequences as many at a time as the batch has units: one, to compare ids with the ORM's."""
    _, orm_rows = play(db_url, tmp_path / "orm", fast=False)
    CORE_STEPS.clear()
    units = len(STORY) if db_url.startswith("sqlite") else 1
    core_outcomes, core_rows = play(twin, tmp_path / "core", fast=True, batched=units)
    assert CORE_STEPS == [0, 1, 2, 3, 4, 5, 7, 9]
    for table in orm_rows:
        assert core_rows[table] == orm_rows[table], table


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_datetime_binds_shared_between_columns_bind_as_processed_alone(dialect):
    """The datetime columns of a statement answer a value met just before (another column's, another
    statement's) with the form processing it alone gives; a naive datetime is refused every time."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.dialects import sqlite as sqlite_dialect

    from storage.crawl_write import _ALIAS, _DOCUMENT

    d = sqlite_dialect.pysqlite.dialect() if dialect == "sqlite" else postgresql.psycopg.dialect()
    stmt = _DOCUMENT.stmt.compile(dialect=d, column_keys=list(_DOCUMENT.keys))
    now, later = datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC), datetime(2025, 1, 2, 11, 4, 5, tzinfo=UTC)
    for first_seen, changed_at, withdrawn in ((now, now, None), (now, later, now), (later, later, later)):
        row = {k: None for k in _DOCUMENT.keys} | {"first_seen": first_seen, "last_seen": first_seen}
        row |= {"changed_at": changed_at, "withdrawn_at": withdrawn, "flags": [], "doc_key": "k", "version": 1}
        _ALIAS.params(d, {k: None for k in _ALIAS.keys} | {"first_seen": later, "last_seen": now})
        got = dict(zip(stmt.positiontup, _DOCUMENT.params(d, row))) if stmt.positional else _DOCUMENT.params(d, row)
        for name in ("first_seen", "last_seen", "changed_at", "withdrawn_at"):
            proc = stmt._bind_processors[name]
            assert got[name] == proc(row[name]), name
    naive = {k: None for k in _DOCUMENT.keys} | {"first_seen": datetime(2025, 1, 2), "flags": []}
    for _ in range(2):
        with pytest.raises(ValueError, match="timezone"):
            _DOCUMENT.params(d, naive)
