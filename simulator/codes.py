"""Check digits of Chinese organisation identifiers.

GB 11714-1997 组织机构代码 (9 chars: 8 body + mod-11 check) and
GB 32100-2015 统一社会信用代码 (18 chars: 17 body + mod-31 check).
"""

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _org_value(ch: str) -> int:
    # digits are 0-9, letters A-Z are 10-35
    return int(ch, 36)


def org_check_digit(body8: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    total = sum(_org_value(c) * w for c, w in zip(body8.upper(), _ORG_WEIGHTS))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def uscc_check_digit(body17: str) -> str:
    """GB 32100 check character of a 17-character USCC body."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body17.upper(), _USCC_WEIGHTS))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def valid_org_code(code: str) -> bool:
    code = code.upper().replace("-", "")
    if len(code) != 9 or not code[:8].isalnum():
        return False
    return org_check_digit(code[:8]) == code[8]


def valid_uscc(code: str) -> bool:
    """Both the USCC check digit and the embedded org-code check digit (positions 9-17)."""
    code = code.upper()
    if len(code) != 18 or any(c not in _USCC_ALPHABET for c in code):
        return False
    return uscc_check_digit(code[:17]) == code[17] and valid_org_code(code[8:17])


def make_uscc(prefix8: str, org_body8: str) -> str:
    """Build a valid USCC: 2-char registration/type + 6-digit region + org code + check."""
    org = org_body8 + org_check_digit(org_body8)
    body = prefix8 + org
    return body + uscc_check_digit(body)
