"""Anti-bot answers (field guide §4): recognised, archived as evidence, never parsed as documents."""

from __future__ import annotations

import re

from scraper.decode import decode_html

_RUISHU = re.compile(rb"\$_ts\s*=|FSSBBIl1UgzbN7N80|MmEwMD=|_\$[a-zA-Z]{2}\s*=")
# What each _RUISHU branch must contain, found by a plain byte search (the regex has no prefix to skip by)
_RUISHU_HINTS = (b"$_ts", b"_$", b"FSSBBIl1UgzbN7N80", b"MmEwMD=")
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
    if status == 200 and len(body) < 60000 and _is_captcha(decode_html(head, content_type)[0]):
        return "captcha page"
    return None


def _ruishu(head: bytes) -> bool:
    return any(hint in head for hint in _RUISHU_HINTS) and _RUISHU.search(head) is not None


def _may_be_captcha(text: str) -> bool:
    """False only when _CAPTCHA cannot match: every branch holds 验证 or 访问 but `captcha`, which (any case)
    lower() turns into `captcha` (no other character matches or lowers to those letters). Plain substring
    searches: the case-blind regex has no prefix to skip by (~4x slower on a 20 KB page)."""
    return "验证" in text or "访问" in text or "captcha" in text.lower()


def _is_captcha(text: str) -> bool:
    """A page whose title, or whose whole (short) visible text, is about verifying the visitor."""
    if not _may_be_captcha(text) or not _CAPTCHA.search(text):  # the title and the visible text are parts of it
        return False
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
