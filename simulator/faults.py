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
from collections.abc import Callable
from dataclasses import dataclass, field

from .response import Response, html_response
from .wire_faults import WIRE_FAULTS


@dataclass
class Context:
    """What a fault handler sees: the request, and knobs for the normal response."""

    seed: int
    method: str
    target: str  # path with query
    path: str
    headers: dict = field(default_factory=dict)  # request headers (case-insensitive Headers)
    options: dict = field(default_factory=dict)  # e.g. no_metadata
    transforms: list = field(default_factory=list)  # functions Response -> Response
    fired: list = field(default_factory=list)  # names of the faults that fired on this request
    port: int = 0
    state: dict = field(default_factory=dict)  # the fault set's memory across requests (e.g. items pushed)


@dataclass
class Rule:
    index: int
    regex: re.Pattern
    fault: str
    rate: float
    params: dict
    counts: dict = field(default_factory=dict)
    fired: int = 0

    def fires(self, ctx: Context, lock: threading.Lock) -> bool:
        if not self.regex.search(ctx.target):
            return False
        with lock:
            n = self.counts[ctx.target] = self.counts.get(ctx.target, 0) + 1
        times = self.params.get("times")  # fire only on the first `times` matches of a target
        if times is not None and n > times:
            return False
        hit = self.rate >= 1.0 or random.Random(f"{ctx.seed}:{self.index}:{ctx.target}:{n}").random() < self.rate
        if hit:
            with lock:
                self.fired += 1
        return hit


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


def _reset(ctx: Context, **_) -> Response:
    return Response(0, action="reset")


def _truncate(ctx: Context, **_) -> None:
    def cut(resp: Response) -> Response:
        resp.action = "truncate"
        return resp

    ctx.transforms.append(cut)


def _delay(ctx: Context, seconds: float = 1.0, **_) -> None:
    time.sleep(float(seconds))


def _option(name: str):
    def handler(ctx: Context, **_) -> None:
        ctx.options[name] = True

    return handler


_RUISHU_PAGE = """<!DOCTYPE html><html><head><meta content="{token}" id="9DhefwqGPrzGxEp9hPaoag">
<script type="text/javascript">$_ts=window['$_ts'];if(!$_ts)$_ts={{}};$_ts.nsd=84736;$_ts.cd="qXqrrpAlEsqW";</script>
<script type="text/javascript" charset="utf-8" src="/4QbVtADbnLVIc/d.FxJzG50F.cd.js" r='m'></script></head>
<body><script type="text/javascript" r='m'>$_ts.l__(0);</script></body></html>"""


def _challenge(ctx: Context, **_) -> Response:
    """瑞数 (Rivers Security): HTTP 412, a meta token, an inline $_ts script, a cookie to mint."""
    token = random.Random(f"{ctx.seed}:ts:{ctx.target}").randbytes(24).hex()
    resp = html_response(412, _RUISHU_PAGE.format(token=token))
    resp.headers["Set-Cookie"] = f"FSSBBIl1UgzbN7N80S={token[:32]}; Path=/; HttpOnly"
    return resp


def _wall(ctx: Context, **_) -> Response:
    return html_response(
        403,
        "<html><head><title>403 Forbidden</title></head><body><h1>访问被拒绝</h1>"
        "<p>您的访问被拦截 (reason: GeoBL)。如有疑问请联系网站管理员。</p></body></html>",
    )


def _captcha(ctx: Context, **_) -> Response:
    return html_response(
        200,
        "<html><head><title>安全验证</title></head><body><form action='/verify'>"
        "<p>访问过于频繁，请输入验证码后继续访问</p><img src='/captcha.jpg'>"
        "<input name='code'><button>提交</button></form></body></html>",
    )


FAULTS: dict[str, Callable[..., Response | None]] = {
    "empty": _option("empty"),  # columns list nothing (totalRecord 0)
    "layout": _option("layout"),  # columns redesigned: no jpage unit, no datastore
    "ignore-startrecord": _option("ignore_startrecord"),  # dataproxy honours only page=N
    "challenge": _challenge,
    "wall": _wall,
    "captcha": _captcha,
    "status": _status,
    "malformed-xml": _malformed_xml,
    "binary": _binary,
    "huge": _huge,
    "no-metadata": _option("no_metadata"),
    "reset": _reset,
    "truncate": _truncate,
    "delay": _delay,
    **WIRE_FAULTS,
}


class FaultSet:
    def __init__(self, seed: int):
        self.seed = seed
        self.rules: list[Rule] = []
        self.state: dict = {}
        self._lock = threading.Lock()

    def add(self, path_regex: str, fault: str, rate: float = 1.0, **params) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {sorted(FAULTS)}")
        with self._lock:
            self.rules.append(Rule(len(self.rules), re.compile(path_regex), fault, rate, params))

    def clear(self) -> None:
        with self._lock:
            self.rules = []
            self.state = {}

    def apply(self, ctx: Context) -> Response | None:
        """Run the firing rules in order; the first that returns a Response wins."""
        ctx.state = self.state
        for rule in list(self.rules):
            if rule.fires(ctx, self._lock):
                ctx.fired.append(rule.fault)
                ctx.options["fired_count"] = rule.fired
                resp = FAULTS[rule.fault](ctx, **rule.params)
                if resp is not None:
                    return resp
        if self.state.get("pushed"):  # items pushed on top stay pushed
            ctx.options["shift"] = self.state["pushed"]
        return None
