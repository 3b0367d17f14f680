"""The Fetcher over real HTTP against the simulator: retries, Retry-After, caps, robots, politeness."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from scraper.fetch import Fetcher, FetchError, FetchPolicy, RobotsDisallowed, RobotsUnreachable, TooLarge

UA = "xxgk-test/1.0 (+mailto:archive@example.org)"


def policy(**kw) -> FetchPolicy:
    base = dict(user_agent=UA, timeout=5, retries=2, backoff=0.05, rate=0, concurrency=4)
    return FetchPolicy(**{**base, **kw})


def fetch(url, **kw):
    async def go():
        async with Fetcher(policy(**kw.pop("policy", {}))) as f:
            res = await f.fetch(url, **kw)
            return res, f.requests

    return asyncio.run(go())


def test_honest_user_agent_and_raw_bytes(portal):
    res, n = fetch(portal.column_urls[0])
    assert res.status == 200 and b"<datastore>" in res.body
    assert n == 2  # robots.txt, then the page
    sent = portal.requests[-1]
    assert sent.headers["user-agent"] == UA


def test_429_retry_after_is_honoured(portal):
    portal.inject(r"/col/", "status", code=429, retry_after=1, times=1)
    t0 = time.monotonic()
    res, n = fetch(portal.column_urls[0])
    assert res.status == 200 and res.attempts == 2
    assert time.monotonic() - t0 >= 1.0


def test_retries_are_bounded(portal):
    portal.inject(r"/col/", "status", code=503)
    res, n = fetch(portal.column_urls[0])
    assert res.status == 503 and res.attempts == 3  # 1 + retries, then the caller sees the 503
    assert len([r for r in portal.requests if r.path.startswith("/col/")]) == 3


@pytest.mark.parametrize("fault", ["reset", "truncate"])
def test_broken_connections_are_retried_and_never_returned_as_good(portal, fault):
    portal.inject(r"/col/", fault, times=1)
    res, _ = fetch(portal.column_urls[0])
    assert res.status == 200 and res.attempts == 2 and res.body.rstrip().endswith(b"</html>")
    portal.clear_faults()
    portal.inject(r"/col/", fault)
    with pytest.raises(FetchError, match="network error after 3 attempts"):
        fetch(portal.column_urls[0])


def test_size_cap(portal):
    portal.inject(r"/col/", "huge", size=3_000_000)
    with pytest.raises(TooLarge, match="over the 100000-byte cap"):
        fetch(portal.column_urls[0], policy={"max_body_bytes": 100_000})


def test_robots(portal):
    portal.robots = "disallow-art"
    res, _ = fetch(portal.column_urls[0])
    assert res.status == 200
    art = portal.expected_documents()[0]["urls"][0]
    with pytest.raises(RobotsDisallowed):
        fetch(art)
    res, _ = fetch(art, policy={"obey_robots": False})
    assert res.status == 200
    portal.robots = "404"  # no robots.txt: everything allowed (RFC 9309)
    assert fetch(art)[0].status == 200
    portal.robots = "403"  # 4xx: allowed too
    assert fetch(art)[0].status == 200


def test_off_site_and_non_http_urls_are_refused(portal):
    with pytest.raises(FetchError, match="off-site"):
        fetch("http://127.0.0.2:1/x", policy={"allowed_hosts": frozenset({"127.0.0.1"})})
    with pytest.raises(FetchError, match="non-http"):
        fetch("file:///etc/passwd")


def test_rate_limit_spaces_requests(portal):
    async def go():
        async with Fetcher(policy(rate=10, obey_robots=False)) as f:
            t0 = time.monotonic()
            await asyncio.gather(*(f.fetch(portal.column_urls[0]) for _ in range(6)))
            return time.monotonic() - t0

    assert asyncio.run(go()) >= 0.45  # 6 starts at 10/s: at least 5 intervals


def test_robots_txt_redirects_are_followed_and_failures_say_why(portal):
    """RFC 9309: redirects followed (up to five, to any host); a loop is no robots.txt; 5xx is unreachable."""
    art = portal.expected_documents()[0]["urls"][0]
    on_site = {"allowed_hosts": frozenset({"127.0.0.1"})}
    portal.robots = "disallow-art"
    portal.inject(r"^/robots\.txt$", "redirect-offsite", host="localhost", times=1)
    assert fetch(portal.column_urls[0], policy=on_site)[0].status == 200
    with pytest.raises(RobotsDisallowed, match="robots.txt forbids this URL"):
        fetch(art, policy=on_site)
    portal.clear_faults()
    portal.inject(r"^/robots\.txt$", "redirect-loop")
    assert fetch(art)[0].status == 200
    portal.clear_faults()
    portal.inject(r"^/robots\.txt$", "status", code=503)
    with pytest.raises(RobotsUnreachable, match="robots.txt unreachable: HTTP 503"):
        fetch(art)


def test_a_timeout_is_named(portal):
    portal.inject(r"/col/", "delay", seconds=2)
    with pytest.raises(FetchError, match=r"^timed out \(network error after 2 attempts\)"):
        fetch(portal.column_urls[0], policy={"timeout": 0.5, "retries": 1})


def test_a_connection_the_server_hung_up_while_idle_is_not_reused(portal):
    """A kept-alive connection the server closed while idle is dropped from the pool (aiohttp's
    protocol sees the EOF, scraper/http_transport.py): replaced, not written to and failed."""

    async def go():
        async with Fetcher(policy(obey_robots=False)) as f:
            first = await f.fetch(portal.column_urls[0])
            portal._server.close_connections()  # FIN on every kept-alive connection
            await asyncio.sleep(0.2)
            second = await f.fetch(portal.column_urls[0])
            return first, second, f.requests

    first, second, n = asyncio.run(go())
    assert first.status == second.status == 200 and second.body == first.body
    assert second.attempts == 1 and n == 2 and len(portal.requests) == 2


def test_cookies_set_by_a_response_are_sent_after_responses_that_set_none(portal):
    """A cookie wall's 302 sets the cookie; the answers after it set none and the cookie stays."""
    portal.inject(r"/col/", "cookie-wall")

    async def go():
        async with Fetcher(policy(obey_robots=False)) as f:
            walled = await f.fetch(portal.column_urls[0])
            plain = await f.fetch(portal.column_urls[0] + "?again=1")
            return walled, plain

    walled, plain = asyncio.run(go())
    assert walled.status == plain.status == 200
    sent = [r.headers.get("cookie", "") for r in portal.requests]
    assert "CT6T=" not in sent[0] and all("CT6T=" in c for c in sent[1:]) and len(sent) == 3


@pytest.mark.parametrize("name", ["Set-Cookie", "SET-COOKIE", "set-cookie"])
def test_the_jar_stores_a_cookie_whatever_the_case_of_set_cookie(name):
    from scraper.fetch import _Cookies

    req = httpx.Request("GET", "http://xxgk.example.cn/a/b.html")
    jar = _Cookies()
    jar.extract_cookies(httpx.Response(200, headers=[("Content-Type", "text/html")], request=req))
    assert not jar
    jar.extract_cookies(httpx.Response(200, headers=[(name, "k=v; Path=/")], request=req))
    assert jar.get("k") == "v"
