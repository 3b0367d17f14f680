"""The Fetcher's httpx transport and cookie jar, minus two costs httpx pays on every request.

- httpcore asks each idle pooled connection "is your socket readable?" (a server that closed it)
  every time it hands out or takes back a connection. Through anyio each question rebuilds the
  stream's attribute table, getpeername() included: about a tenth of the event loop's CPU at 8
  connections. `_Stream` keeps the socket and asks poll() directly; all else is anyio's as before.
- httpx runs every response through http.cookiejar (URL and header adaptors built each time) even
  when it sets no cookie. `Cookies` does that only for a response with Set-Cookie (or Set-Cookie2):
  the jar, and the cookies sent, are the same.
"""

from __future__ import annotations

import select
import socket
import ssl
from typing import Any

import httpcore
import httpx


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream):
        self._inner = inner
        self._sock: socket.socket | None = inner.get_extra_info("socket")
        self._poll: select.poll | None = None  # made once, asked with a zero timeout

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return self._readable()
        return self._inner.get_extra_info(info)

    def _readable(self) -> bool:
        """httpcore's test: data (or the end of the stream) waiting; a socket gone counts as readable."""
        fd = -1 if self._sock is None else self._sock.fileno()
        if fd < 0:
            return True
        if self._poll is None:
            self._poll = select.poll()
            self._poll.register(fd, select.POLLIN)
        return bool(self._poll.poll(0))


class _Backend(httpcore.AnyIOBackend):
    async def connect_tcp(self, *args, **kwargs) -> httpcore.AsyncNetworkStream:
        return _Stream(await super().connect_tcp(*args, **kwargs))

    async def connect_unix_socket(self, *args, **kwargs) -> httpcore.AsyncNetworkStream:
        return _Stream(await super().connect_unix_socket(*args, **kwargs))


def transport(limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's default transport (what AsyncClient(limits=limits) would build) on `_Backend`."""
    t = httpx.AsyncHTTPTransport(limits=limits)
    t._pool = httpcore.AsyncConnectionPool(  # httpx keeps its pool here (pinned <0.29)
        ssl_context=t._pool._ssl_context,  # the one httpx made (a second one costs ~18 ms: CA bundle read again)
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_Backend(),
    )
    return t


class Cookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)
