"""Metadata pairs + page-level hints -> the contract fields, via the synonym table."""

from __future__ import annotations

from scraper.parse import index_no
from scraper.parse.dates import to_iso
from scraper.parse.labels import FALLBACK_LABELS, FIELD_LABELS
from scraper.parse.tree import collapse

_PAGE = object()  # stands for the page-level hint (a <meta>, a marker) in a chain
_DATE_FIELDS = ("publish_date", "written_date")


def _chain(field: str) -> list:
    """Sources in priority order: table labels, fallback labels, the page hint.
    The date's page hint (PubDate) outranks 生成日期, the index stamp date."""
    primary, fallback = list(FIELD_LABELS[field]), list(FALLBACK_LABELS.get(field, ()))
    if field == "publish_date":
        return primary + [_PAGE] + fallback
    return primary + fallback + [_PAGE]


def _value(field: str, source, raw: str, warnings: list[str]) -> str | None:
    if field == "index_no":
        return index_no.normalise(raw)
    if field in _DATE_FIELDS:
        iso = to_iso(raw)
        if iso is None:
            where = "page metadata" if source is _PAGE else source
            warnings.append(f"unparseable date in {where}: {raw!r}")
        return iso
    return collapse(raw) or None


def resolve(fields: dict[str, str], hints: dict[str, str | None], warnings: list[str]) -> dict[str, str | None]:
    """First usable value per contract field; empty -> None; dates ISO; index_no normalised."""
    out: dict[str, str | None] = {}
    for field in FIELD_LABELS:
        out[field] = None
        for source in _chain(field):
            raw = hints.get(field) if source is _PAGE else fields.get(source)
            if raw and raw.strip():
                out[field] = _value(field, source, raw, warnings)
                if out[field] is not None:
                    break
    if out["index_no"]:
        warnings.extend(index_no.check_index_no(out["index_no"]))
    return out
