"""Offline simulator of a Hanweb jcms 政府信息公开 portal (Kaihua County style), served over real HTTP.

    with PortalSimulator(seed=0, docs=120) as sim:
        sim.column_urls, sim.expected_documents(), sim.inject(r"/art/", "status", code=503)
"""

from .codes import make_uscc, org_check_digit, uscc_check_digit, valid_org_code, valid_uscc
from .portal import PortalSimulator
from .response import RequestRecord

__all__ = ["PortalSimulator", "RequestRecord", "make_uscc", "org_check_digit", "uscc_check_digit",
           "valid_org_code", "valid_uscc"]
