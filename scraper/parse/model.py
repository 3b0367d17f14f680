"""The parser's output record."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from scraper.parse.links import Link
from storage.contract import ContractRecord

# Not content: how the bytes were read and what the parser noticed.
_NOT_CONTENT = ("encoding", "warnings")


@dataclass
class ParsedArticle(ContractRecord):
    """The contract's fields (storage/contract.py: defined there once), then what a parse adds."""

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
        return content_digest(self.to_dict())


def content_digest(record: dict) -> str:
    """The content hash of a record (what a parse gave, maybe with list values and file hashes added):
    sha256 of its canonical JSON, leaving out how the bytes were read."""
    content = {k: v for k, v in record.items() if k not in _NOT_CONTENT}
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
