"""The file-text stage's worker processes (SQLite and PostgreSQL): one worker reads every file of a run (it
is not replaced every N files); a file that kills its worker, or hangs it, is that file's error and a new
worker reads the rest; a worker that keeps too much memory after a file is replaced once the files in
flight are done. Results are written in batches, as `save` writes them one by one."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from scraper.extract import stage as stage_mod
from scraper.extract import worker
from scraper.extract.base import Extracted, Limits
from scraper.extract.stage import FileTextStage
from storage import file_texts
from storage.archive import ArchiveError
from storage.db import open_database, session
from storage.tables import blobs

pytestmark = [pytest.mark.usefixtures("db_url"), pytest.mark.e2e]  # starts worker processes


def odd_reader(data: bytes, name: str, limits: Limits) -> tuple[Extracted, float, int]:
    """worker.read, but b'CRASH' kills the worker, b'HANG' hangs it, b'BLOAT' says it holds 1 TB."""
    if data.startswith(b"CRASH"):
        os._exit(3)
    if data.startswith(b"HANG"):
        time.sleep(120)
    got, seconds, rss = worker.read(data, name, limits)
    return got, seconds, 1 << 40 if data.startswith(b"BLOAT") else rss


class DictStore:
    def __init__(self, files: dict[str, bytes]):
        self.files = files

    def get(self, sha256: str) -> bytes:
        try:
            return self.files[sha256]
        except KeyError:
            raise ArchiveError(f"no blob {sha256}") from None


def stage_with(db_url: str, bodies: list[bytes], **kw) -> tuple[FileTextStage, list[tuple[str, str]]]:
    engine = open_database(db_url)
    files = {f"{i:064x}": body for i, body in enumerate(bodies)}
    with engine.begin() as conn:
        now = datetime.now(UTC)
        conn.execute(blobs.insert(), [{"sha256": s, "size": 1, "stored_size": 1, "created_at": now} for s in files])
    return FileTextStage(engine, DictStore(files), **kw), [(sha, f"f{sha[-3:]}.txt") for sha in files]


def statuses(st: FileTextStage) -> dict[str, tuple[str, str | None]]:
    with st.engine.connect() as conn:
        rows = conn.execute(text("SELECT sha256, status, error, text FROM file_texts"))
        return {sha: (status, error or body) for sha, status, error, body in rows}


def test_one_worker_reads_every_file_of_a_run(db_url):
    st, items = stage_with(db_url, [f"第{i}份文件".encode() for i in range(260)])
    sm = st.run(items)
    st.close()
    assert sm.files == 260 and sm.by_status == {"ok": 260}
    assert st.pools_started == 1  # not replaced every 200 files
    assert statuses(st)[items[7][0]] == ("ok", "第7份文件")


def test_a_file_that_kills_its_worker_is_its_error_and_a_new_worker_reads_the_rest(db_url):
    st, items = stage_with(db_url, [b"one", b"two", b"CRASH", b"three", b"four"], reader=odd_reader)
    sm = st.run(items)
    st.close()
    got = statuses(st)
    assert got[items[2][0]] == ("error", "the extractor crashed on this file (its worker died)")
    assert [got[sha] for sha, _ in items if sha != items[2][0]] == [("ok", t) for t in ("one", "two", "three", "four")]
    assert sm.files == 5 and st.pools_started >= 2


def test_a_file_that_hangs_its_worker_is_its_error(db_url, monkeypatch):
    monkeypatch.setattr(stage_mod, "HANG_GRACE", 1.0)
    st, items = stage_with(db_url, [b"HANG", b"after"], reader=odd_reader, limits=Limits(seconds=1.0))
    st.run(items[:1])
    monkeypatch.setattr(stage_mod, "HANG_GRACE", 60.0)  # the next worker's start is not counted as a hang
    st.run(items[1:])
    st.close()
    got = statuses(st)
    assert got[items[0][0]] == ("error", "the extractor hung for over 1 s")
    assert got[items[1][0]] == ("ok", "after")
    assert st.pools_started == 2


def test_a_worker_that_keeps_too_much_memory_is_replaced(db_url):
    st, items = stage_with(db_url, [b"a", b"BLOAT", b"b", b"c", b"d"], reader=odd_reader)
    sm = st.run(items)
    st.close()
    assert sm.by_status == {"ok": 5}
    assert st.pools_started == 2


def test_batched_writes_are_what_save_writes_one_by_one(db_url):
    engine = open_database(db_url)
    shas = [c * 64 for c in "abcd"]
    with engine.begin() as conn:
        now = datetime.now(UTC)
        conn.execute(blobs.insert(), [{"sha256": s, "size": 1, "stored_size": 1, "created_at": now} for s in shas])

    def reading(sha: str, version: str, pages: list[str], labels=None, error=None) -> file_texts.Reading:
        return file_texts.Reading(sha, version.split("/")[0], version, None, "ok", pages, labels, error, 0.25)

    first = [
        reading(shas[0], "pdf/1", ["第一页 法治政府", "第二页\x00建设"]),
        reading(shas[1], "zip/1", ["说明文字", "附件内容"], labels=["a.txt", "b.txt"]),
        reading(shas[2], "doc/1", [], error="damaged \udcff"),
    ]
    second = [
        reading(shas[0], "pdf/2", ["新版 法治政府"]),  # a newer extractor: a row more, the search row replaced
        reading(shas[2], "doc/1", ["读出来了"]),  # the same version again: its row updated
        reading(shas[3], "txt/1", [""]),
        reading(shas[3], "txt/1", ["同一文件两次"]),  # the same file twice in a batch: in order
    ]
    with engine.begin() as conn:
        file_texts.save_many(conn, first)
        file_texts.save_many(conn, second)
    with engine.connect() as conn:
        batched = dump(conn)
    with engine.begin() as conn:
        for t in ("search_files", "file_texts"):
            conn.exec_driver_sql(f"DELETE FROM {t}")
        if conn.dialect.name == "sqlite":
            for t in ("search_file_trigram", "search_file_bigram"):
                conn.exec_driver_sql(f"INSERT INTO {t}({t}) VALUES ('delete-all')")
    with session(engine) as s:
        for r in first + second:
            file_texts.save(s, r.sha256, **{k: v for k, v in r._asdict().items() if k != "sha256"})
        s.commit()
    with engine.connect() as conn:
        assert dump(conn) == batched
    assert batched["search_files"] == [
        ["新版 法治政府", "a" * 64],
        ["说明文字\f附件内容", "b" * 64],
        ["读出来了", "c" * 64],
        ["同一文件两次", "d" * 64],
    ]


def dump(conn) -> dict:
    out = {
        "file_texts": [
            list(r)
            for r in conn.execute(
                text(
                    "SELECT sha256, extractor, extractor_version, library, status, pages, chars, labels, error, text, "
                    "seconds FROM file_texts ORDER BY sha256, extractor_version"
                )
            )
        ],
        "search_files": [list(r) for r in conn.execute(text("SELECT body, sha256 FROM search_files ORDER BY sha256"))],
    }
    if conn.dialect.name == "sqlite":  # what FTS5 finds (its rows follow the file_texts ids, which differ)
        for q in ("法治政府", "附件内容", "读出来了"):
            out[q] = conn.execute(
                text(
                    "SELECT sf.sha256 FROM search_file_trigram t JOIN search_files sf ON sf.file_text_id = t.rowid "
                    "WHERE search_file_trigram MATCH :q"
                ),
                {"q": f'"{q}"'},
            ).all()
    return out
