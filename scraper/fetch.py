"""The Fetcher: one httpx.AsyncClient, per-host politeness, robots.txt, bounded retries, size caps.

The client's transport is aiohttp's (scraper/http_transport.py): httpx's own (httpcore, h11, anyio)
cost ~2x the CPU per request; benchmarks/http_client_bench.py prints both against a bare client.

It returns raw bytes and headers, never decoded text (decoding is scraper.decode's job).

The crawl's one retry policy lives here (`again`): network errors, 429/5xx and anti-bot walls are
retried inside `fetch`; the crawl's document pipeline asks `again` for a page that came back but is
no document (does not parse, redirects in a loop, is oversized) rather than keeping a loop of its
own. Each host has a retry budget per run (RETRY_BUDGET retries plus one per first request): once
spent, failures are final at once and wait for the end-of-run passes and the source's retry list,
so a walled or broken portal costs a bounded number of requests.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx
from loguru import logger
from protego import Protego

from scraper.http_transport import AiohttpTransport
from scraper.httpx_url import request_url
from storage.headers import header_in

RETRY_STATUSES = {429, 500, 502, 503, 504}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 120.0
RETRY_BUDGET = 10  # retries per host per run, plus one for every first request to that host


class FetchError(Exception):
    """A fetch that produced no usable response; `reason` says why in words."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{reason}: {url}")
        self.url, self.reason = url, reason


class RobotsDisallowed(FetchError):
    pass


class RobotsUnreachable(RobotsDisallowed):
    """robots.txt answered 5xx or could not be fetched: RFC 9309 says crawl nothing on that host."""


class BadAnswer(FetchError):
    """The server answered, but not with something to keep: too large, redirected astray."""


class RedirectLoop(BadAnswer):
    pass


class TooLarge(BadAnswer):
    pass


@dataclass
class FetchResult:
    url: str  # final URL after redirects
    requested_url: str
    method: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytes | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    attempts: int = 1
    seconds: float = 0.0  # the last attempt, request sent to body read
    wall: str | None = None  # the anti-bot wall it is, as the fetcher's wall_check found
    wall_checked: bool = False  # (then nobody needs to look again)

    def header(self, name: str) -> str | None:
        return header_in(self.headers, name)

    @property
    def content_type(self) -> str | None:
        return self.header("content-type")


class HostGate:
    """At most `concurrency` requests in flight and `rate` request starts per second for one host."""

    def __init__(self, rate: float, concurrency: int):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.sem = asyncio.Semaphore(concurrency)
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def __aenter__(self):
        await self.sem.acquire()
        if self.interval:
            async with self._lock:
                now = time.monotonic()
                wait = self._next - now
                self._next = max(now, self._next) + self.interval
            if wait > 0:
                await asyncio.sleep(wait)
        return self

    async def __aexit__(self, *exc):
        self.sem.release()


@dataclass
class FetchPolicy:
    user_agent: str
    timeout: float = 30.0
    max_body_bytes: int = 20 * 1024 * 1024
    retries: int = 3
    backoff: float = 0.5  # first retry waits ~backoff s, doubling, with jitter
    obey_robots: bool = True
    rate: float = 1.0
    concurrency: int = 2
    allowed_hosts: frozenset[str] | None = None  # None: any host
    wall_check: Callable[[FetchResult], str | None] | None = None  # anti-bot answer? retried

    @classmethod
    def from_settings(cls, st, **kw) -> FetchPolicy:
        """The policy the config's [settings] give (user agent, timeout, size cap, retries, backoff);
        `kw` sets the rest (a source's rate, concurrency, hosts …)."""
        return cls(
            user_agent=st.user_agent,
            timeout=st.timeout,
            max_body_bytes=st.max_body_bytes,
            retries=st.retries,
            backoff=st.backoff,
            **kw,
        )


RobotsHook = Callable[[FetchResult], Awaitable[None]]


_SET_COOKIE = (b"set-cookie", b"set-cookie2")


class _Cookies(httpx.Cookies):
    """httpx's jar, which runs every response through http.cookiejar (URL and header adaptors built
    each time) even when it sets no cookie: this one does so only for a response with Set-Cookie (or
    Set-Cookie2). The cookies kept, and sent, are the same."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if any(name.lower() in _SET_COOKIE for name, _ in response.headers.raw):  # one pass, no lists per name
            super().extract_cookies(response)


class Fetcher:
    def __init__(
        self,
        policy: FetchPolicy,
        on_robots: RobotsHook | None = None,
        transport: Callable[[httpx.Limits], httpx.AsyncBaseTransport] | None = None,
    ):
        """`transport` makes the client's transport from its limits (default: aiohttp's, see
        scraper.http_transport; benchmarks/http_client_bench.py passes httpx's own to compare)."""
        self.policy = policy
        self.on_robots = on_robots
        self.requests = 0
        self._firsts: dict[str, int] = {}  # host -> first tries (not retries) this run
        self._retried: dict[str, int] = {}  # host -> retries this run
        self._spent: set[str] = set()  # hosts whose retry budget ran out (said once)
        self._gates: dict[str, HostGate] = {}
        self._robots: dict[str, Protego | bool | str] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        t = policy.timeout
        self.client = httpx.AsyncClient(
            headers={"User-Agent": policy.user_agent, "Accept-Language": "zh-CN,zh;q=0.9"},
            timeout=httpx.Timeout(t, connect=min(10.0, t)),
            follow_redirects=False,
            transport=(transport or AiohttpTransport)(
                httpx.Limits(
                    max_connections=max(4, policy.concurrency * 4),
                    max_keepalive_connections=max(4, policy.concurrency * 2),
                )
            ),
        )
        self.client._cookies = _Cookies()  # the `cookies` setter would copy it into a plain jar

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.aclose()

    def _gate(self, host: str) -> HostGate:
        if host not in self._gates:
            self._gates[host] = HostGate(self.policy.rate, self.policy.concurrency)
        return self._gates[host]

    # -- robots.txt ---------------------------------------------------------------------------
    async def _robots_of(self, url: str):
        """The origin's robots.txt rules: Protego, True (no restrictions) or why it was unreachable."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        rules = self._robots.get(origin)  # known: no lock to take (nor a new Lock to make) per request
        if rules is None:
            async with self._robots_locks.setdefault(origin, asyncio.Lock()):
                if origin not in self._robots:
                    self._robots[origin] = await self._load_robots(origin)
            rules = self._robots[origin]
        return rules

    async def _load_robots(self, origin: str):
        """RFC 9309: 2xx is parsed; redirects are followed (up to 5, to any host); 4xx means no
        restrictions; 5xx or unreachable means crawl nothing, and the reason is kept to say so."""
        url = origin + "/robots.txt"
        try:
            res = await self._request("GET", url, None, None, any_host=True)
        except RedirectLoop as exc:
            logger.warning("robots.txt of {}: {}; treating it as absent", origin, exc.reason)
            return True
        except FetchError as exc:
            logger.warning("robots.txt of {} unreachable ({}): crawling nothing there", origin, exc.reason)
            return exc.reason
        if self.on_robots:
            await self.on_robots(res)
        if 400 <= res.status < 500:
            return True
        if not 200 <= res.status < 300:
            logger.warning("robots.txt of {} answered HTTP {}: crawling nothing there", origin, res.status)
            return f"HTTP {res.status}"
        rules = Protego.parse(res.body.decode("utf-8", "replace"))
        delay = rules.crawl_delay(self.policy.user_agent)
        if delay:
            gate = self._gate(urlsplit(origin).netloc)
            gate.interval = max(gate.interval, float(delay))
        return rules

    # -- fetching -----------------------------------------------------------------------------
    async def fetch(
        self,
        url: str,
        method: str = "GET",
        data: dict | bytes | None = None,
        headers: dict | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """`max_bytes` overrides the policy's response-size cap (attachments have their own)."""
        self._check_host(url, url)
        rules = await self._robots_of(url) if self.policy.obey_robots else True
        if isinstance(rules, str):
            raise RobotsUnreachable(url, f"robots.txt unreachable: {rules}")
        if rules is not True and not rules.can_fetch(url, self.policy.user_agent):
            raise RobotsDisallowed(url, "robots.txt forbids this URL")
        return await self._request(method, url, data, headers, max_bytes)

    async def _request(
        self, method: str, url: str, data, headers, max_bytes: int | None = None, any_host: bool = False
    ) -> FetchResult:
        current, hops = url, 0
        while True:
            if not any_host:
                self._check_host(url, current)
            res = await self._with_retries(method, current, data, headers, max_bytes)
            res.requested_url = url
            location = res.header("location")
            if res.status not in REDIRECT_STATUSES or not location:
                return res
            hops += 1
            if hops > MAX_REDIRECTS:
                raise RedirectLoop(url, f"more than {MAX_REDIRECTS} redirects (loop?)")
            current = urljoin(current, location)
            if res.status == 303:
                method, data = "GET", None

    def _check_host(self, origin_url: str, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise BadAnswer(origin_url, f"refusing non-http(s) URL {url!r}")
        allowed = self.policy.allowed_hosts
        if allowed is not None and parts.hostname not in allowed:
            raise BadAnswer(origin_url, f"refusing off-site URL {url!r}")

    async def _with_retries(self, method, url, data, headers, max_bytes=None) -> FetchResult:
        attempt = 0
        host = urlsplit(url).netloc
        self._firsts[host] = self._firsts.get(host, 0) + 1
        while True:
            attempt += 1
            try:
                res = await self._once(method, url, data, headers, max_bytes)
            except BadAnswer:
                raise
            except (TimeoutError, httpx.TransportError) as exc:
                reason = network_reason(exc)
                if not await self.again(url, attempt, reason):
                    raise FetchError(url, f"{reason} (network error after {attempt} attempts)") from None
                continue
            res.attempts = attempt
            walled = self.policy.wall_check(res) if self.policy.wall_check else None
            res.wall, res.wall_checked = walled, self.policy.wall_check is not None
            if res.status in RETRY_STATUSES or walled:
                wait = _retry_after(res.header("retry-after"))
                if (wait is None or wait <= MAX_RETRY_AFTER) and await self.again(
                    url, attempt, walled or f"HTTP {res.status}", wait
                ):
                    continue
            return res

    async def again(self, url: str, attempt: int, why: str, retry_after: float | None = None) -> bool:
        """The retry policy: may `url`, tried `attempt` times so far and ending in `why`, be asked
        again? If so, waits first (Retry-After, else exponential backoff with jitter) and says True."""
        if attempt > self.policy.retries:
            return False
        host = urlsplit(url).netloc
        used = self._retried.get(host, 0)
        if used >= RETRY_BUDGET + self._firsts.get(host, 0):
            if host not in self._spent:
                self._spent.add(host)
                logger.warning(
                    "{}: retry budget spent ({} retries this run); failures there are final "
                    "until the end-of-run passes",
                    host,
                    used,
                )
            return False
        self._retried[host] = used + 1
        await self._sleep(attempt, retry_after, url, why)
        return True

    async def _sleep(self, attempt: int, retry_after: float | None, url: str, why: str) -> None:
        base = self.policy.backoff * (2 ** (attempt - 1))
        delay = retry_after if retry_after is not None else base + random.uniform(0, base)
        logger.debug("retry {} of {} in {:.2f}s after {}", attempt, url, delay, why)
        await asyncio.sleep(min(delay, MAX_RETRY_AFTER))

    async def _once(self, method, url, data, headers, max_bytes=None) -> FetchResult:
        host = urlsplit(url).netloc
        cap = max_bytes or self.policy.max_body_bytes
        async with self._gate(host):
            self.requests += 1
            kwargs = {"content": data} if isinstance(data, bytes) else {"data": data}
            req = self.client.build_request(method, request_url(url), headers=headers, **kwargs)
            started = time.perf_counter()
            # A total deadline per attempt: a server that drips bytes cannot hold us forever.
            async with asyncio.timeout(self.policy.timeout * 4):
                resp = await self.client.send(req, stream=True)
                try:
                    declared = resp.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > cap:
                        raise TooLarge(url, f"body of {declared} bytes is over the {cap}-byte cap")
                    chunks, total = [], 0
                    async for chunk in resp.aiter_bytes():
                        total += len(chunk)
                        if total > cap:
                            raise TooLarge(url, f"body is over the {cap}-byte cap")
                        chunks.append(chunk)
                finally:
                    await resp.aclose()
        return FetchResult(
            url=url,
            requested_url=url,
            method=method,
            status=resp.status_code,
            headers=list(resp.headers.multi_items()),
            body=b"".join(chunks),
            request_headers=list(req.headers.multi_items()),
            request_body=req.content if method != "GET" else None,
            seconds=time.perf_counter() - started,
        )


def network_reason(exc: BaseException) -> str:
    """A network failure in words: connection refused, name not resolved, timed out, connection reset."""
    causes, cause = [], exc
    while cause is not None and len(causes) < 8:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    for cause in causes:
        for kinds, words in _NETWORK_WORDS:
            if isinstance(cause, kinds):
                return words
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


_NETWORK_WORDS = (
    ((httpx.TimeoutException, asyncio.TimeoutError, TimeoutError), "timed out"),
    (socket.gaierror, "name not resolved"),
    (ConnectionRefusedError, "connection refused"),
    (ConnectionResetError, "connection reset"),
    (httpx.RemoteProtocolError, "connection closed by the server mid-answer"),
)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
