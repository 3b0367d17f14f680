"""Response and request records shared by the router, the faults and the HTTP handler."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Response:
    status: int
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    stream_size: int | None = None  # generate this many filler bytes instead of `body`
    action: str = "send"  # send | reset | truncate (half the body) | drip (slowly) | endless (chunked, never ends)
    drip: tuple = (512, 0.02)  # bytes per chunk, seconds between chunks


def html_response(status: int, text: str, content_type: str = "text/html; charset=UTF-8") -> Response:
    return Response(status, {"Content-Type": content_type}, text.encode("utf-8"))


class Headers(dict):
    """A dict of request headers with case-insensitive lookup."""

    def __init__(self, items=()):
        super().__init__()
        for k, v in items:
            self[k] = v

    def __setitem__(self, key, value):
        super().__setitem__(key.lower(), value)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(str(key).lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)


@dataclass
class RequestRecord:
    method: str
    path: str
    query: str  # the raw query string
    headers: Headers
    body: bytes
    status: int  # 0 when the connection was reset without a response
    time: float  # when the request arrived (time.time())
    faults: tuple = ()  # the faults that fired on this request
