"""One simulated portal per CMS family, each reproducing its family's request/response shapes and quirks.

    PortalSimulator(family="trs-static")   # see simulator.portal
"""

from __future__ import annotations

from ..routes import Site as HanwebJpageSite
from .generic import GenericSite
from .gkmlpt import GkmlptSite
from .govcn import GovcnSite
from .hanweb_jpaas import HanwebJpaasSite
from .hanweb_xxgk import HanwebXxgkSite
from .trs_static import TrsStaticSite

FAMILIES = {cls.family: cls for cls in (HanwebJpageSite, HanwebXxgkSite, HanwebJpaasSite, TrsStaticSite,
                                        GovcnSite, GkmlptSite, GenericSite)}

__all__ = ["FAMILIES"]
