"""httpx.URL(url) for the Fetcher's requests, parsed at a fraction of httpx's cost for the usual URL.

httpx parses every request's URL in pure Python (a generator over its characters, percent-quoting of
each part, host checks with `ipaddress`): ~15-25 us a request. For an http(s) URL whose path, query and
fragment hold only characters httpx's quoting keeps as they are, that parse splits the URL (as below),
normalises the scheme, user info, host and port (the part before the path: parsed here by httpx itself,
once per origin) and drops `.`/`..` path segments (httpx's own function). Anything else (other characters,
control characters, an error) is left to httpx.URL, which then quotes it or raises as usual.
"""

from __future__ import annotations

import re
from functools import lru_cache

import httpx
from httpx import _urlparse

_KEPT = _urlparse.UNRESERVED_CHARACTERS  # quote() keeps these, the part's safe set and `%` (in each)


def _chars(safe: str) -> str:
    return "[" + re.escape("".join(sorted(set(_KEPT + safe)))) + "]*"


_PLAIN = re.compile(
    r"(?P<scheme>[hH][tT][tT][pP][sS]?)://(?P<authority>[^/?#\x00-\x1f\x7f]+)"
    rf"(?P<path>{_chars(_urlparse.PATH_SAFE)})"
    rf"(?:\?(?P<query>{_chars(_urlparse.QUERY_SAFE)}))?"
    rf"(?:#(?P<fragment>{_chars(_urlparse.FRAG_SAFE)}))?"
)


@lru_cache(maxsize=256)
def _origin(scheme: str, authority: str) -> tuple[str, str, str, int | None]:
    """(scheme, userinfo, host, port) as httpx normalises them."""
    parsed = httpx.URL(f"{scheme}://{authority}")._uri_reference
    return parsed.scheme, parsed.userinfo, parsed.host, parsed.port


def request_url(url: str) -> httpx.URL:
    """httpx.URL(url), equal in every part (tests/test_httpx_url.py compares them)."""
    m = _PLAIN.fullmatch(url)
    if m is None or len(url) > _urlparse.MAX_URL_LENGTH:
        return httpx.URL(url)
    try:
        origin = _origin(m["scheme"], m["authority"])
    except httpx.InvalidURL:
        return httpx.URL(url)  # raises httpx's error for the whole URL
    made = object.__new__(httpx.URL)
    scheme, userinfo, host, port = origin
    made._uri_reference = _urlparse.ParseResult(
        scheme, userinfo, host, port, _urlparse.normalize_path(m["path"]), m["query"], m["fragment"]
    )
    return made
