"""Pages parsed by the crawl's parse workers (settings.parse_workers) come back exactly as parsed on the
event loop; a bad page is the same ParseError; a pool whose workers died parses on the event loop."""

import asyncio
import os
import signal
from pathlib import Path

import pytest

from scraper.parse import ParseError
from scraper.parse_pool import ParsePool
from scraper.process import parse_page

PAGES = sorted(Path(__file__).parent.glob("examples/*/*.html"))[:6]
pytestmark = pytest.mark.e2e  # it starts worker processes
URL = "http://www.kaihua.gov.cn/art/2025/3/5/art_1229565788_59055213.html"


def test_workers_parse_exactly_what_the_event_loop_parses():
    assert PAGES
    pool = ParsePool(1)
    try:

        async def run():
            return [await pool.parse(p.read_bytes(), URL, "text/html") for p in PAGES]

        got = asyncio.run(run())
    finally:
        pool.close()
    assert got == [parse_page(p.read_bytes(), URL, "text/html") for p in PAGES]
    assert pool.cpu > 0  # the workers' CPU is counted


def test_a_bad_page_is_the_same_parse_error_from_a_worker():
    pool = ParsePool(1)
    try:
        with pytest.raises(ParseError) as in_worker:
            asyncio.run(pool.parse(b"", URL, "text/html"))
    finally:
        pool.close()
    with pytest.raises(ParseError) as here:
        parse_page(b"", URL, "text/html")
    assert in_worker.value.reason == here.value.reason


def test_dead_workers_mean_parsing_on_the_event_loop():
    pool = ParsePool(1)
    try:
        page = PAGES[0].read_bytes()
        asyncio.run(pool.parse(page, URL, "text/html"))  # the worker is up
        assert pool._pool is not None
        for pid in list(pool._pool._processes):  # killed, as the OOM killer would
            os.kill(pid, signal.SIGKILL)
        got = asyncio.run(pool.parse(page, URL, "text/html"))
        assert pool._pool is None
        assert got == parse_page(page, URL, "text/html")
    finally:
        pool.close()


def test_no_workers_no_processes():
    pool = ParsePool(0)
    assert pool._pool is None
    assert asyncio.run(pool.parse(PAGES[0].read_bytes(), URL, "text/html")) == parse_page(
        PAGES[0].read_bytes(), URL, "text/html"
    )
