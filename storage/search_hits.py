"""Search results as the CLI prints them: the document JSON, score and highlighted snippets."""
from __future__ import annotations

from typing import Iterator, Optional

from sqlmodel import Session, select

from storage import search
from storage.models import Document
from storage.queries import documents_json, source_names

BATCH = 500


def search_documents(s: Session, query: str, filters: search.Filters = search.Filters(),
                     limit: Optional[int] = 20, offset: int = 0) -> list[dict]:
    """Best first (after the first `offset`): each hit's document JSON (no body) + score, snippet and match offsets.

    `snippet_matches` and `title_matches` are [start, end) character offsets in `snippet` and `title`."""
    hits = search.find(s.connection(), query, filters, limit, offset)
    terms = search.parse_query(query)
    rows = []
    for row, (_, score) in zip(_documents(s, [doc_id for doc_id, _ in hits]), hits):
        snip = search.snippet(row.pop("body_text") or "", terms)
        row.update(score=round(score, 4), snippet=snip.text, snippet_matches=[list(x) for x in snip.spans],
                   title_matches=[list(x) for x in search.spans_of(search.normalise(row["title"]), terms)])
        rows.append(row)
    return rows


def _documents(s: Session, ids: list[int]) -> Iterator[dict]:
    """The hits' document JSON (with body, for the snippet), in rank order, a batch of queries at a time."""
    names = source_names(s)
    for i in range(0, len(ids), BATCH):
        chunk = ids[i:i + BATCH]
        docs = {d.id: d for d in s.exec(select(Document).where(Document.id.in_(chunk)))}
        yield from documents_json(s, [docs[d] for d in chunk], sources=names)
