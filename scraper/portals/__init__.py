"""Family name -> adapter, and detection from a column page."""
from __future__ import annotations

from typing import Optional

from scraper.portals.base import ListItem, ListProblem, Portal
from scraper.portals.hanweb_jpage import HanwebJpage

FAMILIES: dict[str, type[Portal]] = {cls.family: cls for cls in (HanwebJpage,)}

__all__ = ["FAMILIES", "ListItem", "ListProblem", "Portal", "detect", "portal_class"]


def portal_class(family: str) -> type[Portal]:
    try:
        return FAMILIES[family]
    except KeyError:
        raise ValueError(f"unknown portal family {family!r} (known: {', '.join(FAMILIES)})") from None


def detect(url: str, html: str) -> Optional[type[Portal]]:
    """The first family whose signature the column page carries, or None."""
    return next((cls for cls in FAMILIES.values() if cls.sniff(url, html)), None)
