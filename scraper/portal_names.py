"""The portal family names, known without importing the adapters (so reading a config stays cheap).

Every module of scraper/portals/ but `base` is one family, registered under its module's name with '-'
for '_' (hanweb_xxgk.py: 'hanweb-xxgk'); tests/test_portal_families.py holds the adapters to that rule.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

PORTALS = Path(__file__).with_name("portals")


def family_names() -> tuple[str, ...]:
    """The families, in the order scraper.portals registers them (its modules' order)."""
    return tuple(m.name.replace("_", "-") for m in pkgutil.iter_modules([str(PORTALS)]) if m.name != "base")
