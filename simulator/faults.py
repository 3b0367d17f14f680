"""Fault injection. A rule matches when `re.search(regex, path_with_query)`; whether it fires
is decided by `random.Random(f"{seed}:{rule index}:{target}:{n}")` against `rate`, where n counts
the rule's matches of that target. Handlers live in FAULTS (name -> function) and either return
a Response (which ends processing) or None after adjusting the request context.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .response import Response, html_response


@dataclass
class Context:
    """What a fault handler sees: the request, and knobs for the normal response."""
    seed: int
    method: str
    target: str  # path with query
    path: str
    options: dict = field(default_factory=dict)  # e.g. no_metadata
    transforms: list = field(default_factory=list)  # functions Response -> Response


@dataclass
class Rule:
    index: int
    regex: re.Pattern
    fault: str
    rate: float
    params: dict
    counts: dict = field(default_factory=dict)

    def fires(self, ctx: Context, lock: threading.Lock) -> bool:
        if not self.regex.search(ctx.target):
            return False
        with lock:
            n = self.counts[ctx.target] = self.counts.get(ctx.target, 0) + 1
        times = self.params.get("times")       # fire only on the first `times` matches of a target
        if times is not None and n > times:
            return False
        return self.rate >= 1.0 or random.Random(f"{ctx.seed}:{self.index}:{ctx.target}:{n}").random() < self.rate


def _status(ctx: Context, code: int = 503, retry_after=None, **_) -> Response:
    resp = html_response(code, f"<html><body><h1>{code}</h1><p>Service unavailable</p></body></html>")
    if retry_after is not None:
        resp.headers["Retry-After"] = str(retry_after)
    return resp


def _break_xml(resp: Response) -> Response:
    """Cut the body inside the second CDATA section (or in half): unclosed CDATA, no </datastore>."""
    body = resp.body
    first = body.find(b"<![CDATA[")
    second = body.find(b"<![CDATA[", first + 1) if first >= 0 else -1
    cut = second + 20 if second >= 0 else len(body) // 2
    resp.body = body[:cut]
    return resp


def _malformed_xml(ctx: Context, **_) -> None:
    ctx.transforms.append(_break_xml)


def _binary(ctx: Context, size: int = 4096, **_) -> Response:
    data = random.Random(f"{ctx.seed}:binary:{ctx.target}").randbytes(size)
    return Response(200, {"Content-Type": "application/octet-stream"}, data)


def _huge(ctx: Context, size: int = 50_000_000, **_) -> Response:
    return Response(200, {"Content-Type": "text/html; charset=UTF-8"}, stream_size=int(size))


def _no_metadata(ctx: Context, **_) -> None:
    ctx.options["no_metadata"] = True


def _reset(ctx: Context, **_) -> Response:
    return Response(0, action="reset")


def _truncate(ctx: Context, **_) -> None:
    def cut(resp: Response) -> Response:
        resp.action = "truncate"
        return resp
    ctx.transforms.append(cut)


def _delay(ctx: Context, seconds: float = 1.0, **_) -> None:
    time.sleep(float(seconds))


FAULTS: dict[str, Callable[..., Response | None]] = {
    "status": _status,
    "malformed-xml": _malformed_xml,
    "binary": _binary,
    "huge": _huge,
    "no-metadata": _no_metadata,
    "reset": _reset,
    "truncate": _truncate,
    "delay": _delay,
}


class FaultSet:
    def __init__(self, seed: int):
        self.seed = seed
        self.rules: list[Rule] = []
        self._lock = threading.Lock()

    def add(self, path_regex: str, fault: str, rate: float = 1.0, **params) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {sorted(FAULTS)}")
        with self._lock:
            self.rules.append(Rule(len(self.rules), re.compile(path_regex), fault, rate, params))

    def clear(self) -> None:
        with self._lock:
            self.rules = []

    def apply(self, ctx: Context) -> Response | None:
        """Run the firing rules in order; the first that returns a Response wins."""
        for rule in list(self.rules):
            if rule.fires(ctx, self._lock):
                resp = FAULTS[rule.fault](ctx, **rule.params)
                if resp is not None:
                    return resp
        return None
