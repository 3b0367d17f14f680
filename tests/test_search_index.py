"""The search index itself, on SQLite and PostgreSQL: exact substring semantics on awkward text
(punctuation, spaces, Latin case, full width, astral characters), kept in step with versions and
re-parses, and filled by the migration for archives made before it."""

from __future__ import annotations

import random

import pytest
from helpers import schema_at
from sqlalchemy import text

from storage import search
from storage.archive import LocalBlobStore
from storage.captures import archive_response
from storage.db import open_database, session
from storage.documents import Parsed, apply_parse, current_version, record_reparse
from storage.models import Document, Source

ALPHABET = list("政府法治开化县建设年度报告，。、（）“”《》 \n") + ["A", "a", "Ｂ", "b", "2", "０", "𠀀", "喆"]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    url = f"sqlite:///{tmp_path}/t.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    engine = open_database(url)
    with session(engine) as s:
        s.add(Source(name="src"))
        s.commit()
    return engine, LocalBlobStore(tmp_path / "archive")


def parsed(title: str, body: str, key: str) -> Parsed:
    rec = {
        "index_no": key,
        "title": title,
        "publisher": "县府办",
        "publish_date": "2025-01-02",
        "fields": {},
        "attachments": [],
    }
    return Parsed(record=rec, body_text=body, content_hash=f"{key}|{title}|{body}", parser_version="1")


def put(db, key: str, title: str, body: str) -> int:
    engine, store = db
    with session(engine) as s:
        cap = archive_response(
            s, store, url=f"http://h/{key}", status=200, body=f"{title}{body}".encode(), headers=[], source_id=1
        )
        _, doc = apply_parse(s, source_id=1, url=f"http://h/{key}", capture_id=cap.id, parsed=parsed(title, body, key))
        s.commit()
        return doc.id


def ids(engine, q: str) -> set[int]:
    with session(engine) as s:
        return {i for i, _ in search.find(s.connection(), q, limit=None)}


def test_substrings_of_awkward_text_match_a_brute_force_scan(db):
    rng = random.Random(11)
    texts = {}
    for n in range(60):
        title = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))
        body = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 300)))
        texts[put(db, f"K{n}", title, body)] = (title, body)
    queries = set()
    for title, body in texts.values():
        for source in (title, body):
            if len(source) >= 6:
                i = rng.randrange(len(source) - 5)
                queries |= {source[i : i + 2], source[i : i + 3], source[i : i + 6]}
    queries |= {"aA", "ab", "AB", "ｂ0", "2０", "𠀀喆", "喆𠀀", "年度", "  ", '"政', "%_"}
    normalised = {i: (search.normalise(t), search.normalise(b)) for i, (t, b) in texts.items()}

    def brute(terms: list[str]) -> set[int]:
        return {i for i, (t, b) in normalised.items() if all(x in t or x in b for x in terms)}

    for q in sorted(queries):
        phrase = search.normalise(q).strip()
        if len(phrase) < 2 or '"' in phrase:
            continue
        assert ids(db[0], f'"{q}"') == brute([phrase]), repr(q)  # quoted: the exact substring
        words = phrase.split()
        if all(len(w) >= 2 for w in words):
            assert ids(db[0], q) == brute(words), repr(q)  # words: each one, anywhere
    with pytest.raises(search.SearchError, match="unclosed"):
        ids(db[0], '"政')


def test_the_index_follows_the_current_version(db):
    engine, store = db
    doc_id = put(db, "K1", "关于乡村振兴的通知", "第一版正文，讲高标准农田。")
    assert ids(engine, "农田") == {doc_id} and ids(engine, "高标准农田") == {doc_id}
    put(db, "K1", "关于乡村振兴的通知（修订）", "第二版正文，讲人居环境。")
    assert ids(engine, "农田") == set() and ids(engine, "高标准农田") == set()
    assert ids(engine, "人居") == {doc_id} and ids(engine, "（修订）") == {doc_id}
    with session(engine) as s:  # a re-parse of the current version re-indexes it
        doc = s.get(Document, doc_id)
        record_reparse(
            s, doc, current_version(s, doc), parsed("关于乡村振兴的通知（修订）", "重新解析：碳达峰。", "K1")
        )
        s.commit()
    assert ids(engine, "人居") == set() and ids(engine, "碳达峰") == {doc_id}
    with session(engine) as s:
        assert s.execute(text("SELECT count(*) FROM search_text")).scalar() == 1


def test_filters(db):
    engine, _ = db
    a = put(db, "K1", "政府工作报告", "正文")
    put(db, "K2", "其他", "政府采购")
    with session(engine) as s:
        conn = s.connection()
        assert [i for i, _ in search.find(conn, "政府")][0] == a  # a title hit ranks first
        assert search.count(conn, "政府") == 2
        assert search.find(conn, "政府", search.Filters(since="2026-01-01")) == []
        assert search.find(conn, "政府", search.Filters(publisher="县府")) != []
        assert search.find(conn, "政府", search.Filters(source="other")) == []


def test_migration_indexes_documents_made_before_it(db_url):
    url = db_url
    with schema_at(url, "0002") as conn:
        conn.execute(text("INSERT INTO sources (name, health, created_at) VALUES ('a', 'OK', '2025-01-01')"))
        conn.execute(
            text("INSERT INTO blobs (sha256, size, stored_size, created_at) VALUES ('ab', 1, 1, '2025-01-01')")
        )
        conn.execute(
            text(
                "INSERT INTO captures (kind, method, url, status, fetched_at, sha256, size)"
                " VALUES ('article', 'GET', 'http://h/1', 200, '2025-01-01', 'ab', 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO documents (doc_key, index_no, source_id, url, version, title, first_seen,"
                " last_seen, changed_at) VALUES ('K', 'K', 1, 'http://h/1', 1, '法治政府建设报告',"
                " '2025-01-01', '2025-01-01', '2025-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO document_versions (document_id, version, capture_id, content_hash,"
                " parser_version, body_text, seen_at) VALUES (1, 1, 1, 'h', '1', '正文提到政府。', '2025-01-01')"
            )
        )
    engine = open_database(url)
    assert ids(engine, "政府") == {1} and ids(engine, "法治政府") == {1} and ids(engine, "提到政府") == {1}


def test_a_postgresql_database_in_the_c_locale_scans_and_finds_the_same(tmp_path):
    """pg_trgm sees no trigrams in Chinese when LC_CTYPE is C: the search must still be exact."""
    import uuid

    import sqlalchemy
    from conftest import PG_ADMIN

    name = f"xxgk_c_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
    engine = None
    try:
        engine = open_database(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}")
        with session(engine) as s:
            s.add(Source(name="src"))
            s.commit()
        db = (engine, LocalBlobStore(tmp_path / "archive"))
        a = put(db, "K1", "法治政府建设年度报告", "正文提到政府采购。")
        b = put(db, "K2", "乡村振兴", "高标准农田建设，法治宣传。")
        with session(engine) as s:
            assert search.backend(s.connection()).startswith("postgresql scan")
        assert ids(engine, "法治") == {a, b} and ids(engine, "政府") == {a}
        assert ids(engine, "法治政府") == {a} and ids(engine, "农田建设") == {b} and ids(engine, "建设") == {a, b}
    finally:
        if engine is not None:
            engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def test_bigram_tokens_are_every_overlapping_pair_in_hex():
    """The bigram index's tokens (what a stored index holds: they must never change)."""

    def reference(value: str) -> str:
        codes = [format(ord(c), "x") for c in value]
        return " ".join(a + "x" + b for a, b in zip(codes, codes[1:]))

    assert search.bigram_tokens("政府") == "653fx5e9c"
    assert search.bigram_tokens("") == search.bigram_tokens("政") == ""
    rng = random.Random(7)
    for n in (2, 3, 5, 40):
        for _ in range(200):
            value = "".join(rng.choice(ALPHABET + ["\ud800", "\x00"]) for _ in range(n))
            assert search.bigram_tokens(value) == reference(value)


def test_normalise_folds_as_the_character_table_says():
    """normalise (a regex substitution per match) equals folding every character through the table:
    U+FF01..U+FF5E to ASCII, U+3000 and NBSP to a space, then lower case keeping lengths."""
    table = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0xA0: 0x20}
    rng = random.Random(13)
    pool = [chr(c) for c in range(0xFF00, 0xFF61)] + ["\u3000", "\xa0", "İ", "Ａ", "政", "𠀀", "x", "\n"]
    for _ in range(2000):
        value = "".join(rng.choice(pool) for _ in range(rng.randint(0, 30)))
        folded = value.translate(table)
        want = "".join(c.lower() if len(c.lower()) == 1 else c for c in folded)
        assert search.normalise(value) == want, value
    assert search.normalise(None) == "" and search.normalise("") == ""
