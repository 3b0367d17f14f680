"""Metadata pairs + inline text pairs + page-level hints -> the contract fields, via the synonym table."""

from __future__ import annotations

from scraper.parse import index_no
from scraper.parse.dates import to_iso
from scraper.parse.labels import FALLBACK_LABELS, FIELD_LABELS, INLINE_ONLY_LABELS
from scraper.parse.tree import collapse
from storage.contract import DATE_FIELDS

Hint = tuple[str | None, str]  # (value, where it came from, e.g. "<meta PubDate>")
_NO_VALUE = frozenset({"无", "暂无"})  # `发文字号：无` (Pingtan TRS): the page says there is none
_THIS_SITE = frozenset({"本站", "本网", "本网站"})  # `来源：本站` names the website, not the publishing organ


def _chain(field: str) -> list[tuple[str, str]]:
    """(kind, label) in priority order: table labels, inline labels, fallback labels (table then inline),
    inline-only labels, then the page hint; a field's own labels always outrank another's fallback."""
    primary, fallback = FIELD_LABELS[field], FALLBACK_LABELS.get(field, ())
    return (
        [("table", label) for label in primary]
        + [("inline", label) for label in primary]
        + [("table", label) for label in fallback]
        + [("inline", label) for label in fallback]
        + [("inline", label) for label in INLINE_ONLY_LABELS.get(field, ())]
        + [("page", "")]
    )


_CHAINS = {field: _chain(field) for field in FIELD_LABELS}


def _value(field: str, raw: str, where: str, warnings: list[str]) -> str | None:
    if field == "index_no":
        return index_no.normalise(raw)
    if field in DATE_FIELDS:
        iso = to_iso(raw)
        if iso is None:
            warnings.append(f"unparseable date in {where}: {raw!r}")
        return iso
    value = collapse(raw)
    if field == "publisher" and value in _THIS_SITE:
        return None
    return value if value and value not in _NO_VALUE else None


def resolve(
    fields: dict[str, str], inline: dict[str, str], hints: dict[str, Hint], warnings: list[str]
) -> tuple[dict[str, str | None], dict[str, str]]:
    """First usable value per contract field (empty -> None; dates ISO; index_no normalised), and for each
    field found, which label or rule gave it."""
    out: dict[str, str | None] = {}
    explain: dict[str, str] = {}
    sources = {"table": fields, "inline": inline}
    for field, chain in _CHAINS.items():
        out[field] = None
        for kind, label in chain:
            if kind == "page":
                raw, where = hints.get(field, (None, ""))
            else:
                raw = sources[kind].get(label)
                where = ""
            if raw and raw.strip():
                if kind != "page":
                    where = f"label {label} ({'metadata block' if kind == 'table' else 'inline text line'})"
                out[field] = _value(field, raw, "page metadata" if kind == "page" else label, warnings)
                if out[field] is not None:
                    explain[field] = where
                    break
    if out["index_no"]:
        warnings.extend(index_no.check_index_no(out["index_no"]))
    return out, explain
