"""scraper.blocking: the captcha check skips charset detection only for heads that cannot hold a hint."""

import codecs
import random

import pytest

from scraper.blocking import _HINT_CODECS, _is_captcha, _may_hold_hint, block_reason
from scraper.decode import decode_html

CAPTCHA = "<html><head><title>安全验证</title></head><body><p>请完成验证后继续访问</p></body></html>"
ARTICLE = "<html><head><title>通知</title></head><body>" + "<p>开化县人民政府办公室关于印发年度报告的通知。</p>" * 30


def reference(status: int, body: bytes, content_type: str | None) -> bool:
    """The captcha verdict as block_reason found it before the prefilter: decode_html, then _is_captcha."""
    head = body[:20000]
    return status == 200 and len(body) < 60000 and _is_captcha(*decode_html(head, content_type), head)


def bodies() -> list[tuple[bytes, str | None]]:
    rng = random.Random(13)
    pdf = b"%PDF-1.7\n" + bytes(rng.randrange(256) for _ in range(6000))
    cases = [
        (pdf, "application/pdf"),
        (pdf + "验证码".encode("gb18030"), "application/pdf"),  # undeclared GBK bytes of a hint
        (pdf + "访问受限".encode(), None),
        (pdf + b"CaPtChA", "application/octet-stream"),
        (CAPTCHA.encode("gb18030"), "text/html"),  # undeclared GBK captcha page: detection reads it
        (CAPTCHA.encode("utf-8"), "text/html; charset=UTF-8"),
        (codecs.BOM_UTF16_LE + CAPTCHA.encode("utf-16-le"), None),  # no hint's bytes, but a BOM
        (CAPTCHA.encode("hz"), "text/html; charset=hz"),  # 7-bit escapes: declared outside _HINT_CODECS
        (CAPTCHA.replace("<head>", '<head><meta charset="hz">').encode("hz"), None),
        (CAPTCHA.encode("utf-8"), "text/html; charset=latin-1"),  # a weak header
        (ARTICLE.encode("gb18030"), None),
        (ARTICLE.encode("utf-8"), "text/html; charset=utf-8"),
        (ARTICLE.encode("big5", "replace"), "text/html; charset=big5"),
    ]
    for body, ct in list(cases):
        cases += [(body[:cut], ct) for cut in (len(body) // 2, len(body) // 2 + 1, len(body) - 1)]  # mid-character
    long = (ARTICLE * 4).encode("utf-8")  # a 20,000-byte head ending inside a character
    cases += [(long[:30000], "text/html; charset=utf-8"), (long[:30000], None)]
    return cases


@pytest.mark.parametrize("status", [200, 403])
def test_verdict_as_before(status):
    for body, ct in bodies():
        walled = block_reason(status, body, ct)
        assert (walled == "captcha page") == reference(status, body, ct), (body[:40], ct)


def test_rules_out_only_what_cannot_be_a_captcha():
    for body, ct in bodies():
        head = body[:20000]
        if not _may_hold_hint(head, ct):
            assert not _is_captcha(*decode_html(head, ct), head)


def test_captcha_pages_found():
    assert block_reason(200, CAPTCHA.encode("gb18030"), "text/html") == "captcha page"
    assert block_reason(200, CAPTCHA.encode("hz"), "text/html; charset=hz") == "captcha page"
    assert block_reason(200, ARTICLE.encode("utf-8"), None) is None


def test_binaries_and_undeclared_articles_ruled_out():
    assert not _may_hold_hint(b"%PDF-1.7\n\x00\xff\xfe\x81" * 100, "application/pdf")
    assert not _may_hold_hint(ARTICLE.encode("gb18030"), "text/html")
    assert _may_hold_hint(ARTICLE.encode("utf-8"), "text/html; charset=utf-7")


@pytest.mark.parametrize("codec", ["big5", "gb18030"])
def test_no_other_bytes_read_as_a_hint(codec):
    """_HINT_BYTES holds each hint's utf-8 and gb18030 bytes only: no other byte sequence of big5 or
    gb18030 (2 and 4 bytes) reads as one of the hint characters."""
    assert {"big5", "gb18030"} <= _HINT_CODECS
    seq = bytearray()
    for a in range(0x81, 0xFF):
        for b in range(0x40, 0xFF):
            seq += bytes((a, b))
        if codec == "gb18030":
            for b in range(0x30, 0x3A):
                for c in range(0x81, 0xFF):
                    for d in range(0x30, 0x3A):
                        seq += bytes((a, b, c, d))
    text = bytes(seq).decode(codec, "replace")
    hints = set("验证访问")
    if codec == "gb18030":  # once each, from its two-byte form
        assert [ch for ch in text if ch in hints] == sorted(hints, key=lambda ch: ch.encode("gb18030"))
    else:
        assert not hints & set(text)
