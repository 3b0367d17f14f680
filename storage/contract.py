"""The contract's document fields, defined once: what a parse reads off a page and a version's record keeps,
and what `show`, `ls --json`, `export`, `history` and the web API print, in this order.

Everything else reads these names at call time (`contract.CONTRACT_FIELDS`, never a copy made at import),
so adding a field is: one line in ContractRecord, its labels in scraper/parse/labels.py (FIELD_LABELS),
and a PARSER_VERSION bump (tests/test_parser_fingerprint.py fails until then).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields


@dataclass
class ContractRecord:
    """The fields a parser fills (None when the page does not say); dates YYYY-MM-DD."""

    index_no: str | None = None  # 索引号, normalised: the document's identity
    title: str | None = None
    doc_no: str | None = None  # 文号
    publisher: str | None = None
    publish_date: str | None = None
    written_date: str | None = None  # 成文日期
    disclosure: str | None = None  # 公开方式
    validity: str | None = None  # 有效性
    topic: str | None = None  # 主题分类
    genre: str | None = None  # 体裁分类


def field_names(record: type = ContractRecord) -> tuple[str, ...]:
    return tuple(f.name for f in fields(record))


CONTRACT_FIELDS: tuple[str, ...] = field_names()
DATE_FIELDS = ("publish_date", "written_date")

# After the contract fields, what a document object carries (body_text: `show` and export, not `ls`).
DOCUMENT_TAIL = (
    "fields",
    "body_text",
    "url",
    "urls",
    "source",
    "attachments",
    "version",
    "versions",
    "first_seen",
    "last_seen",
    "changed_at",
    "withdrawn_at",
)


def document_keys() -> tuple[str, ...]:
    """Every key of the document object, in order: the export's CSV columns."""
    return (*CONTRACT_FIELDS, *DOCUMENT_TAIL)


def shown_fields() -> tuple[str, ...]:
    """The lines under the title in `show` and on the web's document page."""
    return tuple(f for f in CONTRACT_FIELDS if f != "title")


def _fold_ascii(ch: str) -> str:
    """Full-width ASCII (e.g. １ ／ －) -> half-width; other characters unchanged."""
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 and folded.isascii() else ch


def normalise_index_no(raw: str | None) -> str | None:
    """The 索引号 as an identity (the parser's and every lookup's): fold full-width ASCII, drop all whitespace (NBSP, U+3000 too), uppercase; '' -> None."""
    if raw is None:
        return None
    text = "".join(_fold_ascii(ch) for ch in raw if not ch.isspace())
    return text.upper() or None


def doc_key(index_no: str | None, url: str) -> str:
    """A document's identity: its normalised 索引号, or 'url:<url>' for a page without one."""
    return index_no if index_no else f"url:{url}"
