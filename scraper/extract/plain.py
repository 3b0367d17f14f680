"""Plain text: UTF-8, else GB18030 (a superset of GB2312/GBK) when it reads the bytes cleanly, else the
encoding charset-normalizer detects (short Chinese texts fool detection: the two common ones go first)."""

from __future__ import annotations

from scraper.extract.base import EMPTY, ERROR, PARTIAL, Budget, Extracted, Limits

VERSION = "txt/1"


def extract(data: bytes, limits: Limits) -> Extracted:
    import charset_normalizer

    out = Extracted("txt", VERSION, f"charset-normalizer {charset_normalizer.__version__}")
    text = None
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig", "replace")
    else:
        text = _strict(data, "utf-8")
        text = _strict(data, "gb18030") if text is None else text
    if text is None:
        best = charset_normalizer.from_bytes(data[:2_000_000]).best()
        if best is None:
            out.status, out.error = ERROR, "not text: no encoding reads it"
            return out
        enc = "gb18030" if best.encoding in ("gb2312", "gbk") else best.encoding
        text = data.decode(enc, "replace")
    budget = Budget(limits)
    if not budget.add(out.pages, text.replace("\r\n", "\n").strip()):
        out.status, out.error = PARTIAL, budget.stopped
    if not text.strip():
        out.status, out.error = EMPTY, "an empty text file"
    return out


def _strict(data: bytes, encoding: str):
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None
