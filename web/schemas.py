"""The JSON API's response shapes (the OpenAPI document): the keys of the CLI's --json, nothing renamed."""
from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, create_model

from storage.contract import CONTRACT_FIELDS


class AttachmentOut(BaseModel):
    name: str
    url: str
    sha256: Optional[str]
    size: Optional[int]


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
    first_seen: Optional[str]
    last_seen: Optional[str]
    changed_at: Optional[str]
    withdrawn_at: Optional[str]


class DocumentFull(DocumentOut):
    """`xxgk show --json`: with the body."""
    body_text: Optional[str]


class DocumentPage(BaseModel):
    documents: list[DocumentOut]
    next_cursor: Optional[str]


class SearchHit(DocumentOut):
    """`xxgk search --json`."""
    score: float
    snippet: str
    snippet_matches: list[list[int]]
    title_matches: list[list[int]]


class SearchPage(BaseModel):
    results: list[SearchHit]
    total: int


class VersionOut(BaseModel):
    """`xxgk history --json`."""
    version: int
    seen_at: Optional[str]
    until: Optional[str]
    current: bool
    url: Optional[str]
    capture_id: int
    sha256: Optional[str]
    content_hash: str
    parser_version: str
    reparses: list[dict[str, Any]]
    fields_changed: list[dict[str, Any]]
    body: Optional[dict[str, Any]]
    attachments_added: list[dict[str, Any]]
    attachments_removed: list[dict[str, Any]]
    attachments_replaced: list[dict[str, Any]]     # same name and URL, other bytes: old/new sha256 and size


class VersionList(BaseModel):
    versions: list[VersionOut]


class LastRun(BaseModel):
    id: int
    status: str
    started_at: str
    finished_at: Optional[str]


class SourceOut(BaseModel):
    """`xxgk sources --json`."""
    name: str
    title: Optional[str]
    family: Optional[str]
    schedule: Optional[str]
    enabled: bool
    next_run: Optional[str]
    start_urls: list[str]
    health: str
    health_reason: Optional[str]
    last_run: Optional[LastRun]
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
    health: Optional[str]
    scheduled_for: Optional[str]
    started_at: Optional[str]
    finished_at: Optional[str]
    reason: Optional[str]
    holder: Optional[str]
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
    error: Optional[str]


class RunList(BaseModel):
    runs: list[RunOut]
