"""索引号: normalisation, split into (organisation code, year, serial), check digits.

Organisation codes are GB 11714 (9 characters, mod 11) or, since 2015, the GB 32100
unified social credit code (18 characters, mod 31) that embeds one. Check digits are
reported, never used to reject: local schemes exist.
"""

from __future__ import annotations

import re

from storage.contract import normalise_index_no as normalise  # noqa: F401 (the identity rule: one copy)

_SPLIT_RE = re.compile(r"^([0-9A-Z\-]{6,20})[/\-](\d{4,6})-(\d{4,10})$")

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def split_index_no(index_no: str) -> tuple[str, str, str] | None:
    """`<org code>/<year>-<serial>` -> (org code, year, serial); None for other forms."""
    m = _SPLIT_RE.match(index_no)
    return (m.group(1), m.group(2), m.group(3)) if m else None


def _org_code_ok(code: str) -> bool:
    """GB 11714: 8 body characters (0-9, A-Z) and a mod-11 check character."""
    if not re.fullmatch(r"[0-9A-Z]{8}[0-9X]", code):
        return False
    total = sum(int(ch, 36) * w for ch, w in zip(code[:8], _ORG_WEIGHTS))
    check = 11 - total % 11
    expected = {10: "X", 11: "0"}.get(check, str(check))
    return code[8] == expected


def _uscc_ok(code: str) -> bool:
    """GB 32100: mod-31 check over a 31-character alphabet, plus the embedded org code."""
    if len(code) != 18 or any(ch not in _USCC_ALPHABET for ch in code):
        return False
    total = sum(_USCC_ALPHABET.index(ch) * w for ch, w in zip(code[:17], _USCC_WEIGHTS))
    check = (31 - total % 31) % 31
    return code[17] == _USCC_ALPHABET[check] and _org_code_ok(code[8:17])


def validate_code(code: str) -> bool | None:
    """Check digits of a 9-character org code or 18-character USCC; None if neither shape."""
    code = code.replace("-", "")
    if len(code) == 9:
        return _org_code_ok(code)
    if len(code) == 18:
        return _uscc_ok(code)
    return None


def check_index_no(index_no: str) -> list[str]:
    """Warnings about an index number's form and check digits (empty when all is well)."""
    parts = split_index_no(index_no)
    if parts is None:
        return ["index_no form not recognised"]
    if validate_code(parts[0]) is False:
        return ["index_no check digit invalid"]
    return []
