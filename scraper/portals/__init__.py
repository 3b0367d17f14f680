"""Family name -> adapter, and detection from a column page.

Detection tries the signatures in the order of the field guide (portals.md §1.0): Hanweb jcms
dataproxy (A), the Hanweb xxgk module (B), Hanweb jpaas (D), TRS static (F), Guangdong gkmlpt (G),
gov.cn (H); a page none of them claims may still be a plain static list (generic), last.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from scraper.portals.base import ListItem, ListProblem, Portal
from scraper.portals.generic import Generic
from scraper.portals.gkmlpt import Gkmlpt
from scraper.portals.govcn import Govcn
from scraper.portals.hanweb_jpaas import HanwebJpaas
from scraper.portals.hanweb_jpage import HanwebJpage
from scraper.portals.hanweb_xxgk import HanwebXxgk
from scraper.portals.trs_static import TrsStatic

ORDER: tuple[type[Portal], ...] = (HanwebJpage, HanwebXxgk, HanwebJpaas, TrsStatic, Gkmlpt, Govcn, Generic)
FAMILIES: dict[str, type[Portal]] = {cls.family: cls for cls in ORDER}

__all__ = ["FAMILIES", "Detection", "ListItem", "ListProblem", "Portal", "detect", "portal_class", "signatures"]


@dataclass
class Detection:
    family: str
    portal: type[Portal]
    params: dict             # the list parameters found on the page (unit ids, page counts, SID …)


def portal_class(family: str) -> type[Portal]:
    try:
        return FAMILIES[family]
    except KeyError:
        raise ValueError(f"unknown portal family {family!r} (known: {', '.join(FAMILIES)})") from None


def detect(url: str, html: str) -> Optional[Detection]:
    """The first family whose signature the column page carries, or None."""
    for cls in ORDER:
        params = cls.sniff(url, html)
        if params is not None:
            return Detection(cls.family, cls, params)
    return None


def signatures() -> str:
    """What detection looks for, family by family, in order (for 'cannot tell' messages)."""
    return "; ".join(f"{cls.family}: {cls.looks_for.split(': ', 1)[-1]}" for cls in ORDER)
