"""Offline simulators of 政府信息公开 portals, one per CMS family, served over real HTTP.

with PortalSimulator(seed=0, docs=120) as sim:                       # Hanweb jcms, Kaihua County style
    sim.column_urls, sim.expected_documents(), sim.inject(r"/art/", "status", code=503)
with PortalSimulator(family="trs-static", columns=["/xxgk/zcfb/tz/"]) as sim:   # see simulator.families
    ...
"""

from .codes import make_uscc, org_check_digit, uscc_check_digit, valid_org_code, valid_uscc
from .portal import PortalSimulator
from .response import RequestRecord

__all__ = [
    "PortalSimulator",
    "RequestRecord",
    "make_uscc",
    "org_check_digit",
    "uscc_check_digit",
    "valid_org_code",
    "valid_uscc",
]
