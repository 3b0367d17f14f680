"""Search results as the CLI prints them: the document JSON, score and highlighted snippets, and the
files of the document (attachments' extracted text) that contain every term, with the page."""

from __future__ import annotations

from collections.abc import Iterator

from sqlmodel import Session, select

from storage import file_texts, search
from storage.models import Document
from storage.queries import documents_json, source_names

BATCH = 500


def search_documents(
    s: Session,
    query: str,
    filters: search.Filters = search.Filters(),
    limit: int | None = 20,
    offset: int = 0,
    scope: str = "all",
) -> list[dict]:
    """Best first (after the first `offset`): each hit's document JSON (no body) + score, snippet and match offsets.

    `snippet_matches` and `title_matches` are [start, end) character offsets in `snippet` and `title`;
    `files_matched` lists the document's files holding every term (name, sha256, page, snippet);
    `matched_in` says where the terms were found: "page", "files" or both."""
    hits = search.find(s.connection(), query, filters, limit, offset, scope)
    terms = search.parse_query(query)
    rows = []
    for row, (_, score) in zip(_documents(s, [doc_id for doc_id, _ in hits]), hits):
        body = row.pop("body_text") or ""
        snip = search.snippet(body, terms)
        in_page = all(t in search.normalise(f"{row['title'] or ''}\n{body}") for t in terms)
        files = files_matched(s, row["attachments"], terms) if scope != "pages" else []
        row.update(
            score=round(score, 4),
            snippet=snip.text,
            snippet_matches=[list(x) for x in snip.spans],
            title_matches=[list(x) for x in search.spans_of(search.normalise(row["title"]), terms)],
            files_matched=files,
            matched_in=(["page"] if in_page else []) + (["files"] if files else []),
        )
        rows.append(row)
    return rows


def files_matched(s: Session, attachments: list[dict], terms: list[str]) -> list[dict]:
    """The attachments whose newest extracted text holds every term: where (page), and a snippet there."""
    texts = file_texts.newest(s, [a["sha256"] for a in attachments if a["sha256"]])
    out, seen = [], set()
    for att in attachments:
        ft = texts.get(att["sha256"])
        if ft is None or att["sha256"] in seen:
            continue
        seen.add(att["sha256"])
        found = file_texts.where_matched(ft, terms)
        if found is None:
            continue
        page, snip = found
        out.append(
            {
                "name": att["name"],
                "sha256": att["sha256"],
                "page": page,
                "pages": ft.pages,
                "page_label": file_texts.page_label(ft, page),
                "snippet": snip.text,
                "snippet_matches": [list(x) for x in snip.spans],
            }
        )
    return out


def _documents(s: Session, ids: list[int]) -> Iterator[dict]:
    """The hits' document JSON (with body, for the snippet), in rank order, a batch of queries at a time."""
    names = source_names(s)
    for i in range(0, len(ids), BATCH):
        chunk = ids[i : i + BATCH]
        docs = {d.id: d for d in s.exec(select(Document).where(Document.id.in_(chunk)))}
        yield from documents_json(s, [docs[d] for d in chunk], sources=names)
