"""The JSON API's response shapes (the OpenAPI document): the keys of the CLI's --json, nothing renamed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, create_model

from storage.contract import CONTRACT_FIELDS


class AttachmentOut(BaseModel):
    name: str
    url: str
    sha256: str | None
    size: int | None


ContractOut = create_model("ContractOut", **{f: (str | None, ...) for f in CONTRACT_FIELDS})


class DocumentOut(ContractOut):  # type: ignore[valid-type,misc]
    """`xxgk ls --json`: a document without its body."""

    fields: dict[str, Any]
    url: str
    urls: list[str]
    source: str
    attachments: list[AttachmentOut]
    version: int
    versions: int
    first_seen: str | None
    last_seen: str | None
    changed_at: str | None
    withdrawn_at: str | None


class DocumentFull(DocumentOut):
    """`xxgk show --json`: with the body."""

    body_text: str | None


class DocumentPage(BaseModel):
    documents: list[DocumentOut]
    next_cursor: str | None


class SearchHit(DocumentOut):
    """`xxgk search --json`."""

    score: float
    snippet: str
    snippet_matches: list[list[int]]
    title_matches: list[list[int]]
    files_matched: list[FileMatch]
    matched_in: list[str]  # "page", "files"


class FileMatch(BaseModel):
    """A file of the document holding every term: where (page from 1, or a zip member / sheet) and a snippet."""

    name: str
    sha256: str
    page: int
    pages: int | None
    page_label: str
    snippet: str
    snippet_matches: list[list[int]]


SearchHit.model_rebuild()


class SearchPage(BaseModel):
    results: list[SearchHit]
    total: int


class VersionOut(BaseModel):
    """`xxgk history --json`."""

    version: int
    seen_at: str | None
    until: str | None
    current: bool
    url: str | None
    capture_id: int
    sha256: str | None
    content_hash: str
    parser_version: str
    reparses: list[dict[str, Any]]
    fields_changed: list[dict[str, Any]]
    body: dict[str, Any] | None
    attachments_added: list[dict[str, Any]]
    attachments_removed: list[dict[str, Any]]
    attachments_replaced: list[dict[str, Any]]  # same name and URL, other bytes: old/new sha256 and size


class VersionList(BaseModel):
    versions: list[VersionOut]


class LastRun(BaseModel):
    id: int
    status: str
    started_at: str
    finished_at: str | None


class SourceOut(BaseModel):
    """`xxgk sources --json`."""

    name: str
    title: str | None
    family: str | None
    schedule: str | None
    enabled: bool
    next_run: str | None
    start_urls: list[str]
    health: str
    health_reason: str | None
    last_run: LastRun | None
    documents: int


class SourceList(BaseModel):
    sources: list[SourceOut]


class RunOut(BaseModel):
    """`xxgk runs --json`."""

    id: int
    source: str
    trigger: str
    mode: str
    status: str
    health: str | None
    scheduled_for: str | None
    started_at: str | None
    finished_at: str | None
    reason: str | None
    holder: str | None
    listed: int
    fetched: int
    new: int
    changed: int
    unchanged: int
    withdrawn: int
    errors: int
    blocked: int
    no_metadata: int
    layout_problems: int
    requests: int
    error: str | None


class RunList(BaseModel):
    runs: list[RunOut]
