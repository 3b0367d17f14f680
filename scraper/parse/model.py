"""The parser's output record."""

from __future__ import annotations

import copy
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
        """Plain data, as dataclasses.asdict gives it (without `explain`), made without its deep copy of
        every string (a third of a page's parse)."""
        return {name: _plain(getattr(self, name)) for name in _names(type(self)) if name != "explain"}

    def content_hash(self) -> str:
        """sha256 of canonical JSON of the content: same content, same hash, whatever the bytes."""
        return content_digest(self.to_dict())


def _plain(value):
    """dataclasses.asdict's conversion of one value: strings and numbers are immutable, so not copied."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _names(type(value))}
    return copy.deepcopy(value)


_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    """dataclasses.fields(cls)'s names, read once per class."""
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


# json.dumps(…, ensure_ascii=False, sort_keys=True, separators=(",", ":")), without a new encoder each time
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_digest(record: dict) -> str:
    """The content hash of a record (what a parse gave, maybe with list values and file hashes added):
    sha256 of its canonical JSON, leaving out how the bytes were read."""
    content = {k: v for k, v in record.items() if k not in _NOT_CONTENT}
    canonical = _CANONICAL.encode(content)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
