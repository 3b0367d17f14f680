"""`xxgk serve` in a real browser: headless Chromium (Debian's, /usr/bin/chromium) through Playwright,
on a crawled simulator archive with a hostile title."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from web_helpers import hostile_title_of, served

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with served(tmp_path_factory.mktemp("web-browser")) as site:
        yield site


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 412, "height": 900})  # a phone
    page = ctx.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    ctx.close()


def _xss(page) -> str | None:
    return page.evaluate("document.documentElement.dataset.xss ?? null")


def test_search_in_chinese_open_the_document_then_its_diff(site, page):
    base, cli, hostile = site
    page.goto(base + "/")
    assert page.locator("table").first.inner_text().count("kaihua") >= 1
    page.fill("header input[type=search]", "学前教育普及普惠")
    page.press("header input[type=search]", "Enter")
    page.wait_for_selector(".hit")
    assert "学前教育普及普惠" in page.locator(".hit mark").first.inner_text()
    link = page.locator(".hit h2 a").first
    assert hostile_title_of(link.inner_text())  # the markup is text
    link.click()
    page.wait_for_selector("#title")
    assert hostile_title_of(page.locator("#title").inner_text())
    assert _xss(page) is None and not page.dialogs  # and never ran
    changed = next(r for r in cli.jsonl("ls") if r["versions"] > 1 and r["index_no"])
    page.goto(f"{base}/documents/{changed['index_no']}")
    page.locator("a.diff-link").last.click()
    page.wait_for_selector("table.diff")
    assert page.locator("table.diff tr.replace, table.diff tr.insert, table.diff tr.delete").count() >= 1
    assert page.locator("table.diff mark").count() >= 1  # changed characters highlighted


def test_raw_view_is_sandboxed(site, page):
    base, _, hostile = site
    resp = page.goto(f"{base}/documents/{hostile}/raw")
    assert resp.headers["content-security-policy"] == "sandbox"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert page.locator("script").count() >= 1  # the archived page's own script is there ...
    assert _xss(page) is None and not page.dialogs  # ... and did not run


def test_a_screenshot_is_not_blank(site, page, tmp_path):
    base, _, hostile = site
    page.goto(f"{base}/documents/{hostile}")
    shot = page.screenshot(full_page=False)
    assert len(set(_png_pixels(shot))) > 20, "the page rendered blank"


def _png_pixels(png: bytes) -> bytes:
    """The decompressed scanlines of a PNG (enough to tell a blank page from a rendered one)."""
    pos, data = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        if kind == b"IDAT":
            data += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return zlib.decompress(data)
