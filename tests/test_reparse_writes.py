"""storage/reparse_writes.py records a reparse batch in a few Core statements; documents.record_reparse
records one version through the ORM (the crawl's path when it meets a newer parser). Both must leave
the same rows: the same parses given to each, on SQLite and PostgreSQL, compared table by table."""

from __future__ import annotations

from archive_helpers import crawled_cli, engine_of, store_of
from sqlalchemy import text
from sqlmodel import Session, select

from scraper import process
from scraper.parse.links import Link
from storage import reparse_writes, search
from storage.db import session
from storage.documents import REPARSED, UNCHANGED, Parsed, record_reparse
from storage.models import Document, DocumentVersion, utcnow

# Rows compared, without the ids a new row takes (the sequences of PostgreSQL do not roll back).
TABLES = {
    "document_versions": "id, document_id, version, capture_id, content_hash, parser_version, record, body_text",
    "documents": "id, doc_key, index_no, flags, version, title, doc_no, publisher, publish_date",
    "document_reparses": "version_id, parser_version, previous_parser_version, previous_content_hash, "
    "previous_record, previous_body_text",
    "attachments": "version_id, name, url, sha256, size",
    "document_urls": "id, url, document_id, content_hash",
    "search_text": "document_id, title, body",
}


def _changed_parser(monkeypatch) -> None:
    """A newer parser whose output differs, and differently from page to page: title, body, attachments
    (one dropped, one renamed, one added, one listed twice), 索引号, or nothing at all."""
    real = process.parse_article

    def parse(data, url, content_type=None):
        art = real(data, url, content_type)
        kind = sum(map(ord, url)) % 7
        if kind == 0:
            return art  # the same output: recorded as unchanged
        art.body_text = art.body_text.replace("，", ",")
        if kind == 1:
            art.title = f"{art.title} (v2)"
        elif kind == 2 and art.attachments:
            art.attachments = art.attachments[1:]
        elif kind == 3 and art.attachments:
            art.attachments[0].name = f"renamed {art.attachments[0].name}"
        elif kind == 4:
            art.attachments.append(Link(name="new.pdf", url=f"{url}.new.pdf"))
        elif kind == 5 and art.attachments:
            art.attachments.append(art.attachments[0])
        elif kind == 6:
            art.index_no = f"{art.index_no or ''}-X"
        return art

    monkeypatch.setattr(process, "parse_article", parse)
    monkeypatch.setattr(process, "PARSER_VERSION", str(int(process.PARSER_VERSION) + 1))


def _rows(s: Session) -> dict[str, list]:
    out = {}
    for table, cols in TABLES.items():
        rows = s.connection().execute(text(f"SELECT {cols} FROM {table} ORDER BY {cols.split(',')[0]}, 2, 3"))
        out[table] = [tuple(map(str, r)) for r in rows]
    return out


def _search_hits(s: Session) -> dict[str, int]:
    return {q: search.count(s.connection(), q) for q in ("v2", "年,", "政府", "通知")}


def test_a_batch_writes_what_record_reparse_writes(tmp_path, portal, db_url, monkeypatch):
    cli = crawled_cli(tmp_path, portal)  # on the database of `db_url`
    engine, store = engine_of(cli), store_of(cli)
    _changed_parser(monkeypatch)
    with session(engine) as s:
        ids = list(s.exec(select(DocumentVersion.id).order_by(DocumentVersion.id)))
        parses: list[tuple[int, Parsed]] = [
            (i, process.parse_version(s, store, s.get(DocumentVersion, i))) for i in ids
        ]
        before = _rows(s)
    now = utcnow()

    with session(engine) as s:  # one version at a time, through the ORM
        outcomes = []
        for ver_id, parsed in parses:
            ver = s.get(DocumentVersion, ver_id)
            outcomes.append(record_reparse(s, s.get(Document, ver.document_id), ver, parsed, now))
        s.flush()
        one_by_one, hits = _rows(s), _search_hits(s)
        s.rollback()

    with session(engine) as s:  # the batch, in a few statements
        conn = s.connection()
        assert reparse_writes.record_reparses(conn, reparse_writes.read_batch(conn, ids), parses, now) == outcomes
        assert _rows(s) == one_by_one and _search_hits(s) == hits
        s.rollback()

    assert {UNCHANGED, REPARSED} <= set(outcomes)
    for table in ("document_versions", "documents", "document_reparses", "attachments", "search_text"):
        assert one_by_one[table] != before[table], table  # every kind of write was exercised
