"""One simulated portal per CMS family, each reproducing its family's request/response shapes and quirks.

    PortalSimulator(family="trs-static")   # see simulator.portal

Every module of this package is a family: its FamilySite subclass registers itself by name (the
Hanweb jcms site, the first one built, lives in simulator/routes.py).
"""

from __future__ import annotations

import importlib
import pkgutil

from .. import routes  # noqa: F401  (registers hanweb-jpage)
from .base import SIMULATED

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

FAMILIES = SIMULATED

__all__ = ["FAMILIES"]
