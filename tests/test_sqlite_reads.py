"""`xxgk show` on an embedded archive reads through stdlib sqlite3 (storage/sqlite_reads.py), running the
SQL compiled from storage.queries.READS: the generated SQL must be what the Core statements compile to,
the values what SQLAlchemy's types make of them, and the output the bytes the SQLAlchemy path prints."""

from __future__ import annotations

import sqlite3

from sqlalchemy import create_engine, select

from storage import sqlite_gen, sqlite_reads
from storage.doc_reads import Reads
from storage.queries import READS, CoreReads
from storage.tables import metadata


def test_the_generated_sql_is_what_the_core_queries_compile_to():
    from storage.sqlite_sql import QUERIES

    assert QUERIES == sqlite_gen.compiled(), (
        "storage/sqlite_sql.py is stale: run `.venv/bin/python -m storage.sqlite_gen`"
    )
    assert set(QUERIES) == set(READS)


def test_only_a_plain_sqlite_url_takes_the_sqlite3_path(tmp_path):
    assert sqlite_reads.sqlite_path("sqlite:////abs/x.db").as_posix() == "/abs/x.db"
    assert sqlite_reads.sqlite_path("sqlite:///rel/x.db").as_posix() == "rel/x.db"
    for url in ("postgresql://u@h/db", "sqlite://", "sqlite:///:memory:", "sqlite:///x.db?mode=ro", "sqlite:///a%20b"):
        assert sqlite_reads.sqlite_path(url) is None, url
    assert sqlite_reads.open_reads(f"sqlite:///{tmp_path}/none.db") is None  # never created here
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
        conn.execute("INSERT INTO alembic_version VALUES ('0001')")
    assert sqlite_reads.open_reads(f"sqlite:///{old}") is None  # not at head: the Core path migrates it


def _archived(cli, portal) -> list[dict]:
    """A crawled archive with second versions (the simulator's day 2, crawled in full)."""
    cli("crawl", "kaihua")
    portal.set_day(2)
    cli("crawl", "kaihua", "--full")
    return cli.jsonl("ls")


def _rows_convert_as_sqlalchemy_converts_them(db_url: str) -> None:
    """Every column of every table of the archive, and the IN-list queries (empty lists too)."""
    path = sqlite_reads.sqlite_path(db_url)
    engine = create_engine(f"sqlite:///{path}")
    raw = sqlite3.connect(path)
    kinds_seen = set()
    try:
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                cols = [c for c in table.columns if _kind_known(c)]
                want = [repr(tuple(r)) for r in conn.execute(select(*cols).order_by(*table.primary_key.columns))]
                names = ", ".join(c.name for c in cols)
                order = ", ".join(c.name for c in table.primary_key.columns)
                got = []
                for row in raw.execute(f"SELECT {names} FROM {table.name} ORDER BY {order}"):
                    kinds = [sqlite_gen.column_kind(c.type) for c in cols]
                    kinds_seen |= {k for k, v in zip(kinds, row, strict=True) if k and v is not None}
                    got.append(
                        repr(tuple(sqlite_reads.CONVERT[k](v) if k else v for k, v in zip(kinds, row, strict=True)))
                    )
                assert got == want, table.name
        with engine.connect() as conn, sqlite_reads.open_reads(db_url) as fast:  # lists fill IN (), empty too
            slow = CoreReads(conn)
            assert fast.rows("source_names") == [tuple(r) for r in slow.rows("source_names")]
            for name in ("urls_of_documents", "current_versions", "attachments_of_versions"):
                for ids in ([], [1], [10**9], list(range(1, 40))):
                    assert [tuple(r) for r in fast.rows(name, ids=ids)] == [tuple(r) for r in slow.rows(name, ids=ids)]
    finally:
        raw.close()
        engine.dispose()
    assert {"datetime_utc", "json"} <= kinds_seen  # the archive had values of the kinds that convert


def _kind_known(col) -> bool:
    try:
        sqlite_gen.column_kind(col.type)
    except TypeError:
        return False
    return True


def _sample(docs: list[dict]) -> list[str]:
    """A few documents, and for each kind of document the output tells apart, the first one of that kind."""
    kinds = (
        lambda d: d["attachments"],
        lambda d: not d["attachments"],
        lambda d: any(a["sha256"] is None for a in d["attachments"]),
        lambda d: len(d["urls"]) > 1,
        lambda d: d["versions"] > 1,
        lambda d: not d["index_no"],
        lambda d: d["withdrawn_at"],
        lambda d: not d["publish_date"],
    )
    picked = docs[:3] + [next(d for d in docs if kind(d)) for kind in kinds if any(kind(d) for d in docs)]
    return list(dict.fromkeys(d["index_no"] or d["url"] for d in picked))


def _both_paths(cli, db_url, monkeypatch, cases: list[tuple[str, ...]]) -> list[tuple[int, bytes, str]]:
    """Each case run on the sqlite3 path (every one of them on SQLite) and on the SQLAlchemy path: the
    same exit code, stdout bytes and stderr. On PostgreSQL both are the SQLAlchemy path: run once."""
    opened = []
    real_open = sqlite_reads.open_reads

    def counted(url):
        found = real_open(url)
        opened.append(found is not None)
        return found

    monkeypatch.setattr(sqlite_reads, "open_reads", counted)
    fast = [_outcome(cli, args) for args in cases]
    assert opened == [db_url.startswith("sqlite")] * len(cases)  # every case took the sqlite3 path on SQLite
    if not db_url.startswith("sqlite"):
        return fast
    monkeypatch.setattr(sqlite_reads, "open_reads", lambda url: None)
    slow = [_outcome(cli, args) for args in cases]
    for args, f, s in zip(cases, fast, slow, strict=True):
        assert f == s, args
    return fast


def test_the_sqlite3_path_reads_and_prints_what_the_sqlalchemy_path_does(cli, portal, db_url, monkeypatch):
    """One archive (two crawls), then: its rows converted alike; `show` on a sample of documents (one of each
    kind) and its errors; `ls` with each filter, all together, with and without --limit (its count of the
    rest), table and JSON (several batches)."""
    from cli import inspect_cmd

    docs = _archived(cli, portal)
    if db_url.startswith("sqlite"):
        _rows_convert_as_sqlalchemy_converts_them(db_url)
    else:
        assert sqlite_reads.open_reads(db_url) is None  # PostgreSQL keeps the SQLAlchemy path
    keys = _sample(docs)
    versioned = [d["index_no"] or d["url"] for d in docs if d["versions"] > 1]
    assert len(docs) > 20 and versioned and any(d["attachments"] for d in docs)
    cases = [("show", k, "--json") for k in keys] + [("show", k) for k in keys] + [("show", keys[0], "--raw")]
    cases += [("show", versioned[0], "--version", "1"), ("show", versioned[0], "--version", "1", "--raw")]
    cases += [("show", keys[0], "--version", "9"), ("show", "no-such-document"), ("show", docs[0]["urls"][0])]

    monkeypatch.setattr(inspect_cmd, "LS_JSON_BATCH", 7)
    days = sorted(d["publish_date"] for d in docs if d["publish_date"])
    seen = sorted(d["changed_at"] or d["first_seen"] for d in docs)
    src, day, at, pub = docs[0]["source"], days[len(days) // 2], seen[-1], docs[0]["publisher"][:2]
    filters = {"--source": src, "--since": day, "--until": day, "--publisher": pub, "--changed-since": at}
    cases += [("ls",), ("ls", "--json"), ("ls", "--source", "no-such-source")]
    cases += [("ls", name, value, "--json") for name, value in filters.items()]  # the listing's variants
    cases += [("ls", name, filters[name], "--limit", "3") for name in ("--source", "--changed-since")]  # counts
    cases += [
        ("ls", *(x for kv in filters.items() for x in kv), "--limit", "1"),
        ("ls", "--changed-since", "2099-01-01"),
    ]
    cases += [("ls", "--changed-since", at.replace("Z", "+08:00"), "--json")]

    fast = _both_paths(cli, db_url, monkeypatch, cases)
    assert {code for code, _, _ in fast} == {0, 1, 2}
    listed = {args: out.count(b"\n") for args, (_, out, _) in zip(cases, fast, strict=True) if args[0] == "ls"}
    for name in ("--since", "--changed-since", "--publisher"):  # filters that keep some documents, not all
        assert 0 < listed[("ls", name, filters[name], "--json")] < len(docs), name


def _outcome(cli, args) -> tuple[int, bytes, str]:
    result = cli(*args, code=None)
    return result.exit_code, result.stdout_bytes, result.stderr


def test_a_reads_instance_serves_the_shared_cli_checks():
    assert issubclass(sqlite_reads.SqliteReads, Reads)
