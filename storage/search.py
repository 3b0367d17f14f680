"""Full-text search over each document's current title and body, with Chinese substring semantics.

A query is terms: words split on spaces, and "quoted phrases" kept whole (spaces included). A document
matches when its title or body contains every term, after `normalise` (full-width ASCII folded to
half-width, NBSP/U+3000 to a space, lower case; lengths kept, so offsets in the normalised text are
offsets in the original). Each term needs two or more characters.

- `search_text` (both databases) holds the normalised text of every document's current version;
  `index_document` keeps it in step whenever a version is made or re-parsed.
- SQLite: FTS5 indexes it. `search_trigram` (trigram tokenizer, external content) answers queries of
  3+ characters; trigrams cannot answer 2, so `search_bigram` (contentless) indexes every overlapping
  character pair as one token ("政府" -> "653fx5e9c") and answers them from one posting list.
- Files (issue 17): `search_files` holds the newest extracted text of each archived file (by sha256),
  indexed the same way (search_file_trigram/_bigram, ix_search_files_trgm). A document matches in its
  files when one file of its current version contains every term; `scope` picks pages, files or all.
- PostgreSQL: GIN pg_trgm indexes on search_text, queried with LIKE '%q%'. A 2-character query, or a
  database whose LC_CTYPE is C (pg_trgm then sees no trigrams in CJK text), makes the index scan
  everything: slower, the same answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from loguru import logger
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.engine import Connection

from storage.models import SearchFile, SearchText

ST, SF = SearchText.__table__, SearchFile.__table__
SCOPES = ("all", "pages", "files")
_FOLD = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " ", "\xa0": " "}
_FOLDED = re.compile("[\uff01-\uff5e\u3000\xa0]")  # _FOLD's keys
TITLE_WEIGHT = 10.0
MIN_QUERY = 2


class SearchError(ValueError):
    """A query the index cannot answer (too short, empty)."""


def normalise(value: str | None) -> str:
    # A substitution per match: str.translate looked every character up (~4x the time on Chinese text)
    folded = _FOLDED.sub(_fold, value) if value else ""
    lower = folded.lower()
    if len(lower) == len(folded):
        return lower
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in folded)  # keep offsets (e.g. 'İ')


def _fold(match: re.Match) -> str:
    return _FOLD[match.group()]


class _Pairs(dict):
    """Code point -> "<hex> <hex>x" (filled as characters come: bounded by the characters there are)."""

    def __missing__(self, code: int) -> str:
        h = format(code, "x")
        value = self[code] = f"{h} {h}x"
        return value


_PAIRS = _Pairs()


def bigram_tokens(value: str) -> str:
    """Every overlapping pair of characters as one ASCII token, e.g. '政府' -> '653fx5e9c'. One
    translate: each character c becomes "c cx", so "abc" -> "a axb bxc cx"; the ends cut off leave
    "axb bxc" (c for its code point in hex)."""
    if len(value) < 2:
        return ""
    pairs = value.translate(_PAIRS)
    return pairs[len(_PAIRS[ord(value[0])]) // 2 : -(len(_PAIRS[ord(value[-1])]) // 2 + 1)]


def parse_query(query: str) -> list[str]:
    """The normalised terms of `query`: words split on spaces, a "quoted phrase" kept whole."""
    q = normalise(query)
    if q.count('"') % 2:
        raise SearchError(f'an unclosed " in the query {query!r}')
    terms: list[str] = []
    for i, part in enumerate(q.split('"')):
        if i % 2 == 0:
            terms += part.split()
        elif part.strip():
            terms.append(part.strip())
    if not terms:
        raise SearchError(f"a search needs at least {MIN_QUERY} characters, got {query!r}")
    for term in terms:
        if len(term) < MIN_QUERY:
            raise SearchError(f"a search term needs at least {MIN_QUERY} characters, got {term!r} in {query!r}")
    return list(dict.fromkeys(terms))


# -- the index ----------------------------------------------------------------------------------
SQLITE_DDL = (
    "CREATE VIRTUAL TABLE search_trigram USING fts5(title, body, content='search_text', "
    "content_rowid='document_id', tokenize='trigram case_sensitive 1')",
    "CREATE VIRTUAL TABLE search_bigram USING fts5(title, body, content='', tokenize='unicode61')",
)
SQLITE_DROP = ("DROP TABLE IF EXISTS search_bigram", "DROP TABLE IF EXISTS search_trigram")
PG_INDEXES = ("ix_search_trgm_title", "ix_search_trgm_body")


def create_index(conn: Connection) -> None:
    """The dialect's index over search_text (the table itself comes from the migration)."""
    if conn.dialect.name == "sqlite":
        for ddl in SQLITE_DDL:
            conn.exec_driver_sql(ddl)
    elif conn.dialect.name == "postgresql":
        schema = _pg_trgm_schema(conn)
        if schema is None:
            logger.warning("pg_trgm is not available: searches will scan search_text (correct, slower)")
            return
        for name, col in zip(PG_INDEXES, ("title", "body")):
            conn.exec_driver_sql(f'CREATE INDEX {name} ON search_text USING gin ({col} "{schema}".gin_trgm_ops)')
        if not pg_trgm_sees_cjk(conn, schema):
            logger.warning(
                "this database's LC_CTYPE makes pg_trgm ignore Chinese characters: searches "
                "will scan (correct, slower); use a UTF-8 locale (e.g. C.UTF-8) for an indexed search"
            )


def drop_index(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for ddl in SQLITE_DROP:
            conn.exec_driver_sql(ddl)
    elif conn.dialect.name == "postgresql":
        for name in PG_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")


def _pg_trgm_schema(conn: Connection) -> str | None:
    """The schema holding pg_trgm, installing it (in public when there is one) if it is missing."""
    find = "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    schema = conn.exec_driver_sql(find).scalar()
    if schema is None:
        has_public = conn.exec_driver_sql("SELECT 1 FROM pg_namespace WHERE nspname = 'public'").scalar()
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(
                    "CREATE EXTENSION IF NOT EXISTS pg_trgm" + (" WITH SCHEMA public" if has_public else "")
                )
        except Exception as exc:  # noqa: BLE001 - no privilege, not installed, or a concurrent create
            logger.info("cannot create extension pg_trgm: {}", exc)
        schema = conn.exec_driver_sql(find).scalar()
    return schema


def pg_trgm_sees_cjk(conn: Connection, schema: str) -> bool:
    return bool(conn.exec_driver_sql(f"SELECT \"{schema}\".show_trgm('政府建设')").scalar())


# built once (a statement built per call costs about as much again as running it)
_ST_READ = select(ST.c.title, ST.c.body).where(ST.c.document_id == bindparam("doc"))
_ST_UPDATE = update(ST).where(ST.c.document_id == bindparam("doc"))
_ST_INSERT = insert(ST)


def index_document(
    conn: Connection, document_id: int, title: str | None, body: str | None, *, new: bool = False
) -> None:
    """Make `document_id` searchable by this title and body (its current version). `new`: the document
    was inserted in this transaction, so it has no row yet (one lookup fewer)."""
    title, body = normalise(title), normalise(body)
    old = None if new else conn.execute(_ST_READ, {"doc": document_id}).first()
    if old is not None and (old.title, old.body) == (title, body):
        return
    fts = conn.dialect.name == "sqlite"
    if old is not None:
        if fts:
            _fts_write(conn, [(document_id, old.title, old.body)], delete=True)
        conn.execute(_ST_UPDATE, {"doc": document_id, "title": title, "body": body})
    else:
        conn.execute(_ST_INSERT, {"document_id": document_id, "title": title, "body": body})
    if fts:
        _fts_write(conn, [(document_id, title, body)])


def index_documents(conn: Connection, docs: Sequence[tuple[int, str | None, str | None]]) -> None:
    """index_document for many (document id, title, body) at once: one read, one executemany a table."""
    wanted = {doc_id: (normalise(title), normalise(body)) for doc_id, title, body in docs}
    rows = conn.execute(select(ST.c.document_id, ST.c.title, ST.c.body).where(ST.c.document_id.in_(wanted)))
    old = {r.document_id: (r.title, r.body) for r in rows}
    changed = {d: tb for d, tb in wanted.items() if old.get(d) != tb}
    fts = conn.dialect.name == "sqlite"
    if fts:
        _fts_write(conn, [(d, *old[d]) for d in changed if d in old], delete=True)
    stale = [{"d_id": d, "title": t, "body": b} for d, (t, b) in changed.items() if d in old]
    if stale:
        conn.execute(update(ST).where(ST.c.document_id == bindparam("d_id")), stale)
    fresh = [{"document_id": d, "title": t, "body": b} for d, (t, b) in changed.items() if d not in old]
    if fresh:
        conn.execute(insert(ST), fresh)
    if fts:
        _fts_write(conn, [(d, t, b) for d, (t, b) in changed.items()])


_FTS_TABLES = (("search_trigram", None), ("search_bigram", bigram_tokens))
FTS_INSERTS = tuple(f"INSERT INTO {t}(rowid, title, body) VALUES (?, ?, ?)" for t, _ in _FTS_TABLES)
_FTS_DELETES = tuple(f"INSERT INTO {t}({t}, rowid, title, body) VALUES ('delete', ?, ?, ?)" for t, _ in _FTS_TABLES)


def fts_rows(rows: Sequence[tuple[int, str, str]], delete: bool = False) -> list[tuple[str, list[tuple]]]:
    """(driver SQL, its rows) writing normalised (rowid, title, body) rows into both FTS5 tables;
    external-content and contentless FTS5 tables delete by replaying the old values (`delete`)."""
    return [
        (sql, [(d, tokens(t), tokens(b)) if tokens else (d, t, b) for d, t, b in rows])
        for sql, (_table, tokens) in zip(_FTS_DELETES if delete else FTS_INSERTS, _FTS_TABLES)
    ]


def _fts_write(conn: Connection, rows: list[tuple[int, str, str]], delete: bool = False) -> None:
    if rows:
        for sql, values in fts_rows(rows, delete):
            conn.exec_driver_sql(sql, values)


def rebuild(conn: Connection, batch: int = 500) -> int:
    """Index every document's current version (after a migration), a batch at a time. Returns the count."""
    last, n = 0, 0
    while True:
        rows = conn.execute(
            text(
                "SELECT d.id, d.title, v.body_text FROM documents d JOIN document_versions v "
                "ON v.document_id = d.id AND v.version = d.version WHERE d.id > :last ORDER BY d.id LIMIT :n"
            ),
            {"last": last, "n": batch},
        ).all()
        if not rows:
            return n
        for doc_id, title, body in rows:
            index_document(conn, doc_id, title, body)
        last, n = rows[-1][0], n + len(rows)


FILE_SQLITE_DDL = (
    "CREATE VIRTUAL TABLE search_file_trigram USING fts5(body, content='search_files', "
    "content_rowid='file_text_id', tokenize='trigram case_sensitive 1')",
    "CREATE VIRTUAL TABLE search_file_bigram USING fts5(body, content='', tokenize='unicode61')",
)
FILE_SQLITE_DROP = ("DROP TABLE IF EXISTS search_file_bigram", "DROP TABLE IF EXISTS search_file_trigram")
PG_FILE_INDEX = "ix_search_files_trgm"


def create_file_index(conn: Connection) -> None:
    """The dialect's index over search_files (the table comes from the migration)."""
    if conn.dialect.name == "sqlite":
        for ddl in FILE_SQLITE_DDL:
            conn.exec_driver_sql(ddl)
    elif conn.dialect.name == "postgresql":
        schema = _pg_trgm_schema(conn)
        if schema is not None:
            conn.exec_driver_sql(
                f'CREATE INDEX {PG_FILE_INDEX} ON search_files USING gin (body "{schema}".gin_trgm_ops)'
            )


def drop_file_index(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for ddl in FILE_SQLITE_DROP:
            conn.exec_driver_sql(ddl)
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {PG_FILE_INDEX}")


def index_file(conn: Connection, file_text_id: int, sha256: str, text_: str) -> None:
    """Make file `sha256` searchable by this text (its newest extraction), replacing an older one."""
    index_files(conn, [(file_text_id, sha256, text_)])


def index_files(conn: Connection, rows: Sequence[tuple[int, str, str]]) -> None:
    """`index_file` for many files (file_text id, sha256, text; one row a sha256) in a few statements."""
    if not rows:
        return
    fts = conn.dialect.name == "sqlite"
    bodies = [(fid, sha, normalise(t)) for fid, sha, t in rows]
    olds = {
        r.sha256: r
        for r in conn.execute(
            select(SF.c.file_text_id, SF.c.sha256, SF.c.body).where(SF.c.sha256.in_([sha for _, sha, _ in bodies]))
        )
    }
    gone, new = [], []
    for fid, sha, body in bodies:
        old = olds.get(sha)
        if old is not None:
            if old.file_text_id == fid and old.body == body:
                continue
            gone.append(old)
        new.append((fid, sha, body))
    if gone:
        if fts:
            _fts_file_write(conn, [(o.file_text_id, o.body) for o in gone], delete=True)
        conn.execute(SF.delete().where(SF.c.sha256.in_([o.sha256 for o in gone])))
    if new:
        conn.execute(insert(SF), [{"file_text_id": fid, "sha256": sha, "body": body} for fid, sha, body in new])
        if fts:
            _fts_file_write(conn, [(fid, body) for fid, _sha, body in new])


def _fts_file_write(conn: Connection, rows: list[tuple[int, str]], delete: bool = False) -> None:
    for table, bigrams in (("search_file_trigram", False), ("search_file_bigram", True)):
        params = [(rowid, bigram_tokens(body) if bigrams else body) for rowid, body in rows]
        if delete:
            conn.exec_driver_sql(f"INSERT INTO {table}({table}, rowid, body) VALUES ('delete', ?, ?)", params)
        else:
            conn.exec_driver_sql(f"INSERT INTO {table}(rowid, body) VALUES (?, ?)", params)


def rebuild_files(conn: Connection) -> int:
    """Index the newest text of every extracted file (after a copy to another database). Returns the count."""
    rows = conn.execute(
        text(
            "SELECT ft.id, ft.sha256 FROM file_texts ft WHERE ft.id = "
            "(SELECT max(x.id) FROM file_texts x WHERE x.sha256 = ft.sha256) ORDER BY ft.id"
        )
    ).all()
    for ft_id, sha in rows:
        body = conn.execute(text("SELECT text FROM file_texts WHERE id = :i"), {"i": ft_id}).scalar()
        index_file(conn, ft_id, sha, body or "")
    return len(rows)


# -- querying -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    source: str | None = None
    since: str | None = None  # publish_date >= YYYY-MM-DD
    until: str | None = None  # publish_date <= YYYY-MM-DD
    publisher: str | None = None  # publisher contains


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filter_sql(f: Filters, params: dict) -> tuple[str, str]:
    join, where = "", ""
    if f.source:
        join = " JOIN sources s ON s.id = d.source_id"
        where += " AND s.name = :source"
        params["source"] = f.source
    if f.since:
        where += " AND d.publish_date >= :since"
        params["since"] = f.since
    if f.until:
        where += " AND d.publish_date <= :until"
        params["until"] = f.until
    if f.publisher:
        where += " AND d.publisher LIKE :pub ESCAPE '\\'"
        params["pub"] = _like(f.publisher)
    return join, where


def _fts_phrase(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _fts_match(terms: list[str], params: dict, trigram: str, bigram: str, name: str) -> tuple[str, str]:
    """(the FTS5 table that ranks, the MATCH condition): terms of 3+ characters go to the trigram index,
    2-character ones to the bigram index; the first index used ranks, the other narrows by rowid."""
    groups = [
        (table, " AND ".join(_fts_phrase(tok(t)) for t in terms if test(t)))
        for table, test, tok in ((trigram, lambda t: len(t) >= 3, str), (bigram, lambda t: len(t) < 3, bigram_tokens))
    ]
    (table, params[name]), *rest = [(tb, m) for tb, m in groups if m]
    cond = f"{table} MATCH :{name}"
    for other, match in rest:
        params[f"{name}_other"] = match
        cond += f" AND {table}.rowid IN (SELECT rowid FROM {other} WHERE {other} MATCH :{name}_other)"
    return table, cond


def _match_sql(conn: Connection, terms: list[str], params: dict, filters: Filters) -> tuple[str, str, str, str]:
    """(FROM clause, WHERE condition, document id, score expression) finding the documents containing
    every term. The index rows are keyed by document id: `documents` is joined only when a filter needs
    it (a join for each of 100,000 matches of a common word costs more than ranking them)."""
    join, where = _filter_sql(filters, params)
    if conn.dialect.name == "sqlite":
        table, cond = _fts_match(terms, params, "search_trigram", "search_bigram", "m")
        source = f"{table} JOIN documents d ON d.id = {table}.rowid{join}" if where else table
        return source, cond + where, f"{table}.rowid", f"-bm25({table}, {TITLE_WEIGHT}, 1.0)"
    conds, scores = [], []
    for i, term in enumerate(terms):
        params.update({f"pat{i}": _like(term), f"q{i}": term, f"qlen{i}": len(term)})
        hit = f"st.title LIKE :pat{i} ESCAPE '\\'"
        conds.append(f"({hit} OR st.body LIKE :pat{i} ESCAPE '\\')")
        scores.append(
            f"(CASE WHEN {hit} THEN {TITLE_WEIGHT} ELSE 0 END + "
            f"CAST(length(st.body) - length(replace(st.body, :q{i}, '')) AS FLOAT) / :qlen{i} * 1000.0 "
            "/ (length(st.body) + 500))"
        )
    source = f"search_text st JOIN documents d ON d.id = st.document_id{join}" if where else "search_text st"
    return source, " AND ".join(conds) + where, "st.document_id", " + ".join(scores)


_TO_DOCUMENT = (
    " JOIN attachments a ON a.sha256 = sf.sha256 JOIN document_versions v ON v.id = a.version_id"
    " JOIN documents d ON d.id = v.document_id AND d.version = v.version"
)


def _file_match_sql(conn: Connection, terms: list[str], params: dict, filters: Filters) -> tuple[str, str, str, str]:
    """As _match_sql, for the files of documents' current versions: one row per (document, matching file)."""
    join, where = _filter_sql(filters, params)
    if conn.dialect.name == "sqlite":
        table, cond = _fts_match(terms, params, "search_file_trigram", "search_file_bigram", "fm")
        source = f"{table} JOIN search_files sf ON sf.file_text_id = {table}.rowid{_TO_DOCUMENT}{join}"
        return source, cond + where, "d.id", f"-bm25({table})"
    conds, scores = [], []
    for i, term in enumerate(terms):
        params.update({f"fpat{i}": _like(term), f"fq{i}": term, f"fqlen{i}": len(term)})
        conds.append(f"sf.body LIKE :fpat{i} ESCAPE '\\'")
        scores.append(
            f"CAST(length(sf.body) - length(replace(sf.body, :fq{i}, '')) AS FLOAT) / :fqlen{i} * 1000.0 "
            "/ (length(sf.body) + 500)"
        )
    return f"search_files sf{_TO_DOCUMENT}{join}", " AND ".join(conds) + where, "d.id", " + ".join(scores)


def _hits_sql(conn: Connection, terms: list[str], params: dict, filters: Filters, scope: str) -> str:
    """SELECT doc_id, score of the matching documents: in their pages, their files, or either
    (each document once, its best score)."""
    if scope not in SCOPES:
        raise SearchError(f"search in pages, files or all, not {scope!r}")
    parts = []
    for wanted, make in (("pages", _match_sql), ("files", _file_match_sql)):
        if scope in (wanted, "all"):
            source, cond, doc_id, score = make(conn, terms, params, filters)
            parts.append(f"SELECT {doc_id} AS doc_id, {score} AS score FROM {source} WHERE {cond}")
    if scope == "pages":
        return parts[0]
    # MATERIALIZED: SQLite must not flatten bm25() into the aggregate ("unable to use function bm25")
    return (
        f"SELECT doc_id, max(score) AS score FROM (WITH hits AS MATERIALIZED ({' UNION ALL '.join(parts)}) "
        "SELECT * FROM hits) h GROUP BY doc_id"
    )


def find(
    conn: Connection,
    query: str,
    filters: Filters = Filters(),
    limit: int | None = 20,
    offset: int = 0,
    scope: str = "pages",
) -> list[tuple[int, float]]:
    """(document id, score) of the documents containing every term of `query` (in their title and
    body, their files, or either: `scope`), best first (higher is better), skipping the first `offset`."""
    params: dict = {}
    sql = _hits_sql(conn, parse_query(query), params, filters, scope) + " ORDER BY score DESC, doc_id DESC"
    if limit:
        sql += " LIMIT :limit OFFSET :offset"
        params.update(limit=limit, offset=offset)
    return [(r[0], float(r[1])) for r in conn.execute(text(sql), params)]


def _count(conn: Connection, terms: list[str], filters: Filters, scope: str = "pages") -> int:
    params: dict = {}
    return conn.execute(
        text(f"SELECT count(*) FROM ({_hits_sql(conn, terms, params, filters, scope)}) n"), params
    ).scalar()


def count(conn: Connection, query: str, filters: Filters = Filters(), scope: str = "pages") -> int:
    return _count(conn, parse_query(query), filters, scope)


def unmatched(conn: Connection, query: str, filters: Filters = Filters(), scope: str = "pages") -> list[str]:
    """The terms of `query` that no document (within `filters`) contains on its own."""
    return [t for t in parse_query(query) if not _count(conn, [t], filters, scope)]


def backend(conn: Connection) -> str:
    """How this database answers searches (for `xxgk stats`)."""
    if conn.dialect.name == "sqlite":
        return "sqlite fts5 (trigram + bigram)"
    schema = conn.exec_driver_sql(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    ).scalar()
    if schema is None:
        return "postgresql scan (pg_trgm missing)"
    return "postgresql pg_trgm" if pg_trgm_sees_cjk(conn, schema) else "postgresql scan (LC_CTYPE ignores CJK)"


# -- snippets -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snippet:
    text: str
    spans: list[tuple[int, int]]  # [start, end) of each match in text


def spans_of(haystack_norm: str, terms: list[str], start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """[start, end) of every occurrence of any term, in order, overlapping ones merged."""
    end = len(haystack_norm) if end is None else end
    found = []
    for term in terms:
        i = haystack_norm.find(term, start, end)
        while i >= 0:
            found.append((i, i + len(term)))
            i = haystack_norm.find(term, i + len(term), end)
    out: list[tuple[int, int]] = []
    for a, b in sorted(found):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def snippet(body: str, terms: list[str], width: int = 120) -> Snippet:
    """A window of `body` around the first match of any term (newlines flattened), with every match in it."""
    norm = normalise(body)
    first = min((i for i in (norm.find(t) for t in terms) if i >= 0), default=-1)
    start = 0 if first < 0 else max(0, first - width // 3)
    end = min(len(body), start + width)
    lead = "…" if start > 0 else ""
    tail = "…" if end < len(body) else ""
    window = body[start:end].replace("\r", " ").replace("\n", " ")
    spans = [(a - start + len(lead), b - start + len(lead)) for a, b in spans_of(norm, terms, start, end)]
    return Snippet(lead + window + tail, spans)
