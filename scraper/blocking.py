"""Anti-bot answers (field guide §4): recognised, archived as evidence, never parsed as documents."""

from __future__ import annotations

import re

from scraper.decode import _BOMS, canonical_encoding, declared_text, decode_html, header_charset, meta_charset

_RUISHU = re.compile(rb"\$_ts\s*=|FSSBBIl1UgzbN7N80|MmEwMD=|_\$[a-zA-Z]{2}\s*=")
# _RUISHU's branches: two plain strings, and two that start at (or one byte before) a `$`
_RUISHU_WORDS = (b"FSSBBIl1UgzbN7N80", b"MmEwMD=")
_RUISHU_TS = re.compile(rb"\$_ts\s*=")
_RUISHU_VAR = re.compile(rb"\$[a-zA-Z]{2}\s*=")  # after a `_`
_CAPTCHA = re.compile("验证码|滑动验证|安全验证|人机验证|请完成验证|访问过于频繁|访问受限|captcha", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.S | re.I)
_TAGS = re.compile(r"<[^>]+>")
_SCRIPTS = re.compile(r"<(script|style)[^>]*>.*?</\1>", re.S | re.I)
_WAF = re.compile(
    "GeoBL|Web应用防火墙|网站防火墙|您的访问被拦截|云堤|安全狗|访问被拒绝|Access Denied|Forbidden|非法请求", re.I
)


def block_reason(status: int, body: bytes, content_type: str | None = None) -> str | None:
    """Why this response is an anti-bot wall, or None when it looks like a real answer."""
    head = body[:20000]
    if status in (412, 521) or (status in (200, 202) and len(body) < 50000 and _ruishu(head)):
        return f"HTTP {status} JavaScript cookie challenge (瑞数-style)"
    if status in (403, 405, 429, 503) and _WAF.search(decode_html(head, content_type)[0]):
        return f"HTTP {status} firewall wall"
    if status == 403:
        return "HTTP 403 wall"
    if status == 200 and len(body) < 60000 and _is_captcha_head(head, content_type):
        return "captcha page"
    return None


def _is_captcha_head(head: bytes, content_type: str | None) -> bool:
    """_is_captcha(*decode_html(head, content_type), head), without decode_html's charset detection for a
    head that cannot hold a hint (binaries, undeclared or truncated pages: ~180 us saved a file)."""
    decoded = declared_text(head, content_type)
    if decoded is None:
        if not _may_hold_hint(head, content_type):
            return False
        decoded = decode_html(head, content_type)
    return _is_captcha(*decoded, head)


def _ruishu(head: bytes) -> bool:
    """_RUISHU.search(head) is not None, found by plain byte searches and the regex tried only at each `$`
    (the regex has no prefix to skip by: ~4x slower on a 20 KB head)."""
    if any(word in head for word in _RUISHU_WORDS):
        return True
    at = head.find(b"$")
    while at >= 0:
        if _RUISHU_TS.match(head, at) or (at and head[at - 1] == 0x5F and _RUISHU_VAR.match(head, at)):  # 0x5F: _
            return True
        at = head.find(b"$", at + 1)
    return False


_CAPTCHA_HINTS = ("验证", "访问")  # every _CAPTCHA branch but `captcha` holds one of them
_CAPTCHA_HINTS_UTF8 = tuple(hint.encode("utf-8") for hint in _CAPTCHA_HINTS)


def _may_be_captcha(text: str, encoding: str, raw: bytes) -> bool:
    """False only when _CAPTCHA cannot match `text` (`raw` read as `encoding`): no 验证, no 访问 and no
    `captcha` in any case (no character but those ASCII letters matches or lowers to them). Plain substring
    searches, on the bytes when they are UTF-8 read as is (a word is in the text iff its UTF-8 bytes are in
    them; lower() of bytes changes ASCII only): the case-blind regex has no prefix to skip by (~10x slower)."""
    if encoding == "utf-8":
        return any(hint in raw for hint in _CAPTCHA_HINTS_UTF8) or b"captcha" in raw.lower()
    return any(hint in text for hint in _CAPTCHA_HINTS) or "captcha" in text.lower()


# The encodings decode_html can read an undeclared page in (detection: utf-8, gb18030, big5; a weak header:
# latin-1, cp1252, ascii): in each, a hint is in the text only if one of these byte strings is in the bytes
# (big5 has no 验证访问; the other three no CJK at all; `captcha` is single ASCII bytes in all of them).
_HINT_CODECS = frozenset({"utf-8", "gb18030", "big5", "iso8859-1", "cp1252", "ascii"})
_HINT_BYTES = tuple(hint.encode(codec) for hint in _CAPTCHA_HINTS for codec in ("utf-8", "gb18030"))


def _may_hold_hint(head: bytes, content_type: str | None) -> bool:
    """False only when no text decode_html(head, content_type) can give holds a _CAPTCHA hint: no hint's bytes
    in any of _HINT_CODECS, no BOM and nothing declared outside them."""
    if any(hint in head for hint in _HINT_BYTES) or b"captcha" in head.lower():
        return True
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return True
    declared = (canonical_encoding(header_charset(content_type)), canonical_encoding(meta_charset(head)))
    return any(codec is not None and codec not in _HINT_CODECS for codec in declared)


def _is_captcha(text: str, encoding: str, raw: bytes) -> bool:
    """A page whose title, or whose whole (short) visible text, is about verifying the visitor."""
    if not _may_be_captcha(text, encoding, raw) or not _CAPTCHA.search(text):  # the title and the visible
        return False  # text are parts of the text (no word has a space)
    title = _TITLE.search(text)
    if title and _CAPTCHA.search(title.group(1)):
        return True
    visible = _TAGS.sub(" ", _SCRIPTS.sub(" ", text))
    return len(visible.split()) < 60 and len("".join(visible.split())) < 600 and bool(_CAPTCHA.search(visible))


def wall_of(res) -> str | None:
    """block_reason of a FetchResult, reusing what the fetcher's wall check found (once per page)."""
    if res.wall_checked:
        return res.wall
    return block_reason(res.status, res.body, res.content_type)
