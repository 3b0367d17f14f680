"""What `show` and `ls` read, once, over either reader: SQLAlchemy Core (storage/queries.py) or stdlib
sqlite3 (storage/sqlite_reads.py, their fast path on an embedded archive).

Each query is named; its statement is the Core one in storage.queries.READS (the SQLite reader runs its
text compiled ahead, storage/sqlite_sql.py). A listing's filters pick one of its variants, named after the
filters set (`variant`). This module imports no SQLAlchemy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage import contract
from storage.contract import doc_key, normalise_index_no
from storage.stamps import iso_ts

Row = Any  # a result row: the columns as attributes


class Reads:
    """Runs the named queries of storage.queries.READS: `rows(name, **params)` returns every row, `stream`
    yields them as they are read. A list parameter (`ids=[...]`) fills an expanding IN."""

    def stream(self, name: str, **params: Any) -> Iterator[Row]:
        raise NotImplementedError

    def rows(self, name: str, **params: Any) -> list[Row]:
        return list(self.stream(name, **params))

    def first(self, name: str, **params: Any) -> Row | None:
        found = self.rows(name, **params)
        return found[0] if found else None

    def one(self, name: str, **params: Any) -> Row:
        found = self.rows(name, **params)
        if len(found) != 1:
            raise LookupError(f"{name} {params}: {len(found)} rows, want one")
        return found[0]


@dataclass(frozen=True)
class DocFilter:
    """Which documents: `since`/`until` compare ISO dates (YYYY-MM-DD) on publish_date, both inclusive;
    `changed_since` (aware datetime) keeps documents first seen, changed or withdrawn at or after it."""

    source: str | None = None
    since: str | None = None
    until: str | None = None
    publisher: str | None = None
    changed_since: datetime | None = None


FILTERS = ("source", "since", "until", "publisher", "changed_since")  # DocFilter's fields, in variant order


def variant(query: str, params: dict[str, Any]) -> str:
    """The name of `query`'s variant for these parameters (the filters set, then `limit`)."""
    return f"{query}[{','.join(params)}]"


def filter_params(f: DocFilter) -> dict[str, Any]:
    return {k: getattr(f, k) for k in FILTERS if getattr(f, k)}


def list_documents(r: Reads, f: DocFilter = DocFilter(), limit: int | None = None) -> Iterator[Row]:
    """Newest first by publish date (undated last), read as they are iterated."""
    params = filter_params(f) | ({"limit": limit} if limit else {})
    return r.stream(variant("list_documents", params), **params)


def count_documents(r: Reads, f: DocFilter = DocFilter()) -> int:
    params = filter_params(f)
    return int(r.one(variant("count_documents", params), **params)[0])


def source_names(r: Reads) -> dict[int, str]:
    return {row.id: row.name for row in r.stream("source_names")}


def find_document(r: Reads, ident: str) -> Row | None:
    """By 索引号 (as printed: full-width and spaces tolerated), by doc key, or by any of its URLs."""
    ident = ident.strip()
    doc = r.first("document_by_key", doc_key=ident)
    if doc is None:
        folded = normalise_index_no(ident) or ident
        doc = r.first("document_by_key", doc_key=folded)
    if doc is None:
        alias = r.first("document_id_by_url", url=ident)
        if alias is None:
            doc = r.first("document_by_key", doc_key=doc_key(None, ident))
        else:
            doc = r.first("document_by_id", id=alias.document_id)
    return doc


def get_version(r: Reads, doc: Row, version: int | None = None) -> Row | None:
    return r.first("version", document_id=doc.id, version=version or doc.version)


def version_attachments(r: Reads, ver: Row) -> list[Row]:
    """A version's attachments in the order the page lists them (as `show` numbers them, from 1)."""
    return r.rows("version_attachments", version_id=ver.id)


def version_capture(r: Reads, ver: Row) -> Row | None:
    """The archived response a version was parsed from."""
    return r.first("capture", id=ver.capture_id)


def source_name(r: Reads, source_id: int) -> str:
    return r.one("source_name", id=source_id).name


def document_json(
    r: Reads,
    doc: Row,
    version: int | None = None,
    body: bool = True,
    sources: dict[int, str] | None = None,
) -> dict:
    """The contract's document object (keys stable, null when absent, ISO dates)."""
    ver = get_version(r, doc, version)
    urls = [row.url for row in r.rows("document_urls", document_id=doc.id)]
    atts = version_attachments(r, ver) if ver else []
    source = (sources or {}).get(doc.source_id) or source_name(r, doc.source_id)
    return build_document_json(doc, ver, urls, list(atts), source, body)


def documents_json(r: Reads, docs: list[Row], body: bool = True, sources: dict[int, str] | None = None) -> list[dict]:
    """document_json of many documents (current versions) in four queries, in the order given."""
    ids = [d.id for d in docs]
    vers = {ver.document_id: ver for ver in r.stream("current_versions", ids=ids)}
    urls: dict[int, list[str]] = defaultdict(list)
    for row in r.stream("urls_of_documents", ids=ids):
        urls[row.document_id].append(row.url)
    atts: dict[int, list[Row]] = defaultdict(list)
    for att in r.stream("attachments_of_versions", ids=[ver.id for ver in vers.values()]):
        atts[att.version_id].append(att)
    names = sources or source_names(r)
    return [
        build_document_json(
            doc,
            vers.get(doc.id),
            urls[doc.id],
            atts[vers[doc.id].id] if doc.id in vers else [],
            names[doc.source_id],
            body,
        )
        for doc in docs
    ]


def build_document_json(
    doc: Row,
    ver: Row | None,
    urls: list[str],
    atts: list[Row],
    source: str,
    body: bool = True,
) -> dict:
    """The document object from rows already loaded (exports load them a batch at a time)."""
    rec = ver.record if ver else {}
    out = {k: rec.get(k) for k in contract.CONTRACT_FIELDS}
    out["index_no"] = doc.index_no
    out["fields"] = rec.get("fields") or {}
    if body:
        out["body_text"] = ver.body_text if ver else None
    out.update(
        {
            "url": doc.url,
            "urls": urls,
            "source": source,
            "attachments": [{"name": a.name, "url": a.url, "sha256": a.sha256, "size": a.size} for a in atts],
            "version": ver.version if ver else doc.version,
            "versions": doc.version,
            "first_seen": iso_ts(doc.first_seen),
            "last_seen": iso_ts(doc.last_seen),
            "changed_at": iso_ts(doc.changed_at),
            "withdrawn_at": iso_ts(doc.withdrawn_at),
        }
    )
    return out
