"""The parser's output record."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from scraper.parse.links import Link

# Not content: how the bytes were read and what the parser noticed.
_NOT_CONTENT = ("encoding", "warnings")


@dataclass
class ParsedArticle:
    index_no: str | None = None
    title: str | None = None
    doc_no: str | None = None
    publisher: str | None = None
    publish_date: str | None = None
    written_date: str | None = None
    disclosure: str | None = None
    validity: str | None = None
    topic: str | None = None
    genre: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    body_text: str = ""
    attachments: list[Link] = field(default_factory=list)
    related: list[Link] = field(default_factory=list)
    encoding: str = "utf-8"
    has_metadata: bool = False
    warnings: list[str] = field(default_factory=list)
    explain: dict[str, str] = field(default_factory=dict)  # field -> the label or rule that gave it (not stored)

    def to_dict(self) -> dict:
        record = dataclasses.asdict(self)
        del record["explain"]
        return record

    def content_hash(self) -> str:
        """sha256 of canonical JSON of the content: same content, same hash, whatever the bytes."""
        content = {k: v for k, v in self.to_dict().items() if k not in _NOT_CONTENT}
        canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
