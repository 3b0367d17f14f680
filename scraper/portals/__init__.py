"""Family name -> adapter, and detection from a column page.

Every module of this package is a family: its Portal subclass registers itself by name. Detection
tries the signatures by rank, in the order of the field guide (portals.md §1.0): Hanweb jcms
dataproxy (A), the Hanweb xxgk module (B), Hanweb jpaas (D), TRS static (F), Guangdong gkmlpt (G),
gov.cn (H); a page none of them claims may still be a plain static list (generic), last.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

from scraper.portals.base import REGISTRY, ListItem, ListProblem, Portal

for _module in pkgutil.iter_modules(__path__):  # each family module registers its adapter (Portal)
    importlib.import_module(f"{__name__}.{_module.name}")

FAMILIES: dict[str, type[Portal]] = REGISTRY

__all__ = [
    "FAMILIES",
    "Detection",
    "ListItem",
    "ListProblem",
    "Portal",
    "detect",
    "order",
    "portal_class",
    "signatures",
]


def order() -> list[type[Portal]]:
    """The families in detection order."""
    return sorted(REGISTRY.values(), key=lambda cls: cls.rank)


@dataclass
class Detection:
    family: str
    portal: type[Portal]
    params: dict  # the list parameters found on the page (unit ids, page counts, SID …)


def portal_class(family: str) -> type[Portal]:
    try:
        return FAMILIES[family]
    except KeyError:
        raise ValueError(f"unknown portal family {family!r} (known: {', '.join(FAMILIES)})") from None


def detect(url: str, html: str) -> Detection | None:
    """The first family whose signature the column page carries, or None."""
    for cls in order():
        params = cls.sniff(url, html)
        if params is not None:
            return Detection(cls.family, cls, params)
    return None


def signatures() -> str:
    """What detection looks for, family by family, in order (for 'cannot tell' messages)."""
    return "; ".join(f"{cls.family}: {cls.looks_for.split(': ', 1)[-1]}" for cls in order())
