"""An httpx transport on aiohttp's connection pool and C HTTP parser: the Fetcher's wire.

httpx stays the API the Fetcher calls (requests, responses, cookies, decoding); only the part under
`httpx.AsyncBaseTransport` changes. httpx's own transport (httpcore + h11 + anyio) costs ~0.5 ms of
CPU a request here, most of it in the connection pool and pure-Python header parsing;
benchmarks/http_client_bench.py prints the figures side by side.

What the Fetcher relies on, and how it is kept:
- Bodies stream (`Response.aiter_bytes`) in chunks of at most 64 KiB, so the size cap stops a huge or
  inflating answer early; a response closed before its body ended closes its connection (aiohttp never
  reuses a connection with unread body).
- No decompression here (httpx decodes Content-Encoding as before) and no cookie jar here (httpx's
  jar, set on the client, sends and stores cookies), no redirects (the Fetcher follows them).
- The URL goes to the wire exactly as httpx encoded it (`encoded=True`: not re-quoted), the headers
  as httpx built them, names cased as given, in order: the bytes h11 would send.
- The pool holds at most `limits.max_connections` connections, idle ones for `keepalive_expiry`
  (aiohttp has no separate cap on idle ones: `max_keepalive_connections` is not used).
- Timeouts: httpx's connect timeout bounds the TCP/TLS connect, its pool timeout the wait for a
  connection, its read timeout every read (head and body); the Fetcher adds the total deadline.
- A kept-alive connection the server closed while idle is noticed by the event loop (its protocol
  sees EOF) and dropped from the pool, so it is never written to.
- aiohttp's errors become httpx's, with the original as `__cause__` (scraper.fetch.network_reason
  reads the chain): reset, refused and unresolved names keep their OS error; a connection closed
  mid-answer, a truncated body or a malformed answer is `RemoteProtocolError`, as with h11.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from functools import lru_cache

import aiohttp
import httpx
from yarl import URL

# The header limits at least as lenient as h11's (16 KiB of head): aiohttp's defaults are 8 KiB a
# line and 128 headers, which a portal's long Set-Cookie or Content-Disposition could pass.
_MAX_LINE = 16 * 1024
_MAX_HEADERS = 512
_ssl_context: ssl.SSLContext | None = None
# A body is read at most this much at a time, however much has arrived: httpx inflates one chunk at a
# time, so a gzip bomb's chunk inflates to ~64 MB at most before the Fetcher's size cap sees it (as with
# httpcore's 64 KiB reads). aiohttp's readany() hands over all it has buffered.
_CHUNK = 64 * 1024
# httpx sets Content-Type when there is one; none is none (aiohttp would add application/octet-stream to a
# POST, PUT or PATCH). A GET or HEAD without a body needs no skip list: aiohttp adds no Content-Type to it,
# and the other headers it adds when missing (Accept, Accept-Encoding, User-Agent) httpx always sends.
# Without one aiohttp takes its fast path (no per-request CIMultiDict copies).
_SKIP_CONTENT_TYPE = ("Content-Type",)
_NO_SKIP_NEEDED = frozenset({"GET", "HEAD"})


def default_ssl_context() -> ssl.SSLContext:
    """httpx's verifying context (certifi's CA bundle), made once: reading the bundle costs ~20 ms."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = httpx.create_ssl_context()
    return _ssl_context


def _httpx_error(exc: BaseException) -> httpx.TransportError:
    """The httpx exception a caller of httpx expects for an aiohttp failure (raised `from exc`)."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):  # connecting, or waiting for a pooled connection
        return httpx.ConnectTimeout(message)
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)
    if isinstance(exc, aiohttp.ClientOSError):
        return httpx.ReadError(message)
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return httpx.UnsupportedProtocol(message)
    # ServerDisconnectedError, ClientPayloadError (truncated or malformed body), ClientResponseError
    # (a head the parser refused): the server broke the exchange.
    return httpx.RemoteProtocolError(message)


@lru_cache(maxsize=16)
def _client_timeout(pool: float | None, connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
    """httpx's pool, connect and read timeouts as aiohttp's (made once: the Fetcher's are the same always)."""
    return aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect, sock_read=read)


def _yarl_url(url: httpx.URL) -> URL:
    """URL(str(url), encoded=True) (as httpx encoded it, not re-quoted), built from the parts httpx parsed
    (~2 us against ~8 for joining and splitting the string again) when there is no user info, the host is a
    name or an IPv4 address and the port a port; tests/test_http_transport.py compares the two."""
    p = url._uri_reference
    if p.userinfo or ":" in p.host or not p.host or not p.path.startswith("/") or (p.port or 0) > 65535:
        return URL(str(url), encoded=True)
    return URL.build(
        scheme=p.scheme,
        host=p.host,
        port=p.port,
        path=p.path,
        query_string=p.query or "",
        fragment=p.fragment or "",
        encoded=True,
    )


class _Body(httpx.AsyncByteStream):
    __slots__ = ("_resp",)

    def __init__(self, resp: aiohttp.ClientResponse):
        self._resp = resp

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._resp.content
        try:
            while chunk := await content.read(_CHUNK):
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _httpx_error(exc) from exc

    async def aclose(self) -> None:
        # release(): back to the pool when the body was read to its end, else the connection closes.
        self._resp.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over one aiohttp ClientSession (made on the first request, inside the event loop)."""

    def __init__(self, limits: httpx.Limits, ssl_context: ssl.SSLContext | None = None):
        self._limits = limits
        self._ssl = ssl_context or default_ssl_context()
        self._session: aiohttp.ClientSession | None = None

    def _new_session(self) -> aiohttp.ClientSession:
        limits = self._limits
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            keepalive_timeout=limits.keepalive_expiry,
            ssl=self._ssl,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None),
            max_line_size=_MAX_LINE,
            max_field_size=_MAX_LINE,
            max_headers=_MAX_HEADERS,
        )
        # aiohttp sends a GET again, unasked, when its connection resets or closes before the answer's
        # head (the attribute its own test client clears). The Fetcher's retry policy is the only one:
        # its attempts and per-host budget count every request the server sees.
        session._retry_connection = False
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            self._session = self._new_session()
        t = request.extensions.get("timeout") or {}
        timeout = _client_timeout(t.get("pool"), t.get("connect"), t.get("read"))
        try:
            body = request.content or None
        except httpx.RequestNotRead:  # a streamed body (the Fetcher sends bytes or forms)
            body = await request.aread() or None
        method = request.method
        # The names as the caller cased them (multi_items() would lower-case them on the wire).
        enc = request.headers.encoding
        headers = [(k.decode(enc), v.decode(enc)) for k, v in request.headers.raw]
        try:
            resp = await self._session.request(
                method,
                _yarl_url(request.url),
                headers=headers,
                data=body,
                skip_auto_headers=None if body is None and method in _NO_SKIP_NEEDED else _SKIP_CONTENT_TYPE,
                allow_redirects=False,
                timeout=timeout,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _httpx_error(exc) from exc
        extensions = {"http_version": b"HTTP/1.1"}
        if resp.reason:
            extensions["reason_phrase"] = resp.reason.encode("latin-1", "replace")
        return httpx.Response(
            resp.status, headers=resp.raw_headers, stream=_Body(resp), request=request, extensions=extensions
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
