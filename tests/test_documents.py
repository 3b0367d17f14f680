"""The dedupe rules on a real SQLite database: identity by 索引号, URL aliases, versions, withdrawals."""

import pytest
from sqlmodel import select

from storage.archive import LocalBlobStore
from storage.captures import archive_response
from storage.db import BUSY_MS, open_database, session
from storage.documents import CHANGED, NEW, UNCHANGED, Parsed, apply_parse, mark_gone
from storage.models import Document, DocumentUrl, DocumentVersion, Source
from storage.queries import document_json, find_document

INDEX = "113308245972094984/2025-01529"


@pytest.fixture
def db(db_url, tmp_path):
    engine = open_database(db_url)
    store = LocalBlobStore(tmp_path / "archive")
    with session(engine) as s:
        s.add(Source(name="kaihua"))
        s.commit()
    return engine, store


def parsed(index_no=INDEX, title="开化县2024年法治政府建设年度报告", body="正文", h=None):
    rec = {
        "index_no": index_no,
        "title": title,
        "publisher": "县府办",
        "publish_date": "2025-03-05",
        "fields": {"索引号": index_no or ""},
        "attachments": [],
    }
    return Parsed(record=rec, body_text=body, content_hash=h or f"{index_no}|{title}|{body}", parser_version="1")


def put(db, url, p, **kw):
    engine, store = db
    with session(engine) as s:
        cap = archive_response(
            s, store, url=url, status=200, body=f"{url}{p.content_hash}".encode(), headers=[], source_id=1
        )
        outcome, doc = apply_parse(s, source_id=1, url=url, capture_id=cap.id, parsed=p, **kw)
        s.commit()
        return outcome, doc.id


def count(db, model):
    with session(db[0]) as s:
        return len(s.exec(select(model)).all())


def test_same_index_no_at_two_urls_is_one_document(db):
    assert put(db, "http://h/art_1_9.html", parsed())[0] == NEW
    assert put(db, "http://h/art_2_9.html", parsed())[0] == UNCHANGED
    assert count(db, Document) == 1 and count(db, DocumentUrl) == 2 and count(db, DocumentVersion) == 1
    with session(db[0]) as s:
        out = document_json(s, find_document(s, INDEX))
    assert out["urls"] == ["http://h/art_1_9.html", "http://h/art_2_9.html"]
    assert out["url"] == "http://h/art_1_9.html" and out["version"] == 1 and out["versions"] == 1


def test_content_change_makes_a_version_and_keeps_the_old(db):
    put(db, "http://h/a.html", parsed(body="旧"))
    outcome, _ = put(db, "http://h/a.html", parsed(body="新"))
    assert outcome == CHANGED
    with session(db[0]) as s:
        doc = find_document(s, INDEX)
        assert doc.version == 2
        assert document_json(s, doc, version=1)["body_text"] == "旧"
        assert document_json(s, doc)["body_text"] == "新"


def test_two_urls_serving_different_content_do_not_flip_flop(db):
    put(db, "http://h/a.html", parsed(body="甲"))
    put(db, "http://h/b.html", parsed(body="乙"))  # a stale copy elsewhere: one more version
    for _ in range(3):
        assert put(db, "http://h/a.html", parsed(body="甲"))[0] == UNCHANGED
        assert put(db, "http://h/b.html", parsed(body="乙"))[0] == UNCHANGED
    assert count(db, DocumentVersion) == 2


def test_page_without_index_no_is_keyed_by_url_and_flagged(db):
    put(db, "http://h/x.html", parsed(index_no=None))
    with session(db[0]) as s:
        doc = find_document(s, "http://h/x.html")
        assert doc.index_no is None and "no_index_no" in doc.flags
    # it later gains an 索引号: same document, new version, flag dropped
    assert put(db, "http://h/x.html", parsed())[0] == CHANGED
    with session(db[0]) as s:
        doc = find_document(s, INDEX)
        assert doc.version == 2 and "no_index_no" not in doc.flags
    assert count(db, Document) == 1


def test_full_width_index_no_finds_the_document(db):
    put(db, "http://h/a.html", parsed())
    with session(db[0]) as s:
        assert find_document(s, "１１３３０８２４５９７２０９４９８４／２０２５－０１５２９ ") is not None


def test_sqlite_pragmas(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path}/p.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_MS
    open_database(f"sqlite:///{tmp_path}/p.db")  # migrating again is a no-op


def test_withdrawal_needs_every_url_gone_and_reappearing_clears_it(db):
    put(db, "http://h/a.html", parsed())
    put(db, "http://h/b.html", parsed())
    with session(db[0]) as s:
        assert mark_gone(s, "http://h/a.html") is False
        assert mark_gone(s, "http://h/b.html") is True
        s.commit()
        assert find_document(s, INDEX).withdrawn_at is not None
    put(db, "http://h/a.html", parsed())
    with session(db[0]) as s:
        doc = find_document(s, INDEX)
        assert doc.withdrawn_at is None and "reappeared" in doc.flags
