"""Legacy binary Office files (OLE compound files, read with olefile).

Word 97-2003 .doc and Kingsoft WPS .wps (the same WordDocument stream) are read through the piece
table: the CLX in the table stream maps character positions to runs of UTF-16 or cp1252 bytes.
Spreadsheets (.xls/.et, BIFF8) are not read: they come back `unsupported`, saying so."""

from __future__ import annotations

import io
import re
import struct

from scraper.extract.base import EMPTY, ERROR, PARTIAL, UNSUPPORTED, Budget, Extracted, Limits

VERSION = "doc/1"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FIELD = re.compile("\x13[^\x13\x14\x15]*\x14([^\x13\x14\x15]*)\x15|\x13[^\x13\x14\x15]*\x15")
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f]")


def library() -> str:
    import olefile

    return f"olefile {olefile.__version__}"


def extract(data: bytes, limits: Limits) -> Extracted:
    import olefile

    out = Extracted("doc", VERSION, library())
    if bad := _bad_header(data):  # before olefile, which fails on these with Python's own messages
        return _fail(out, f"damaged OLE file: {bad}")
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - olefile raises OSError and others on damage
        return _fail(out, f"damaged OLE file: {type(exc).__name__}: {str(exc)[:200]}")
    with ole:
        if ole.exists("Workbook") or ole.exists("Book"):
            out.extractor = "et"
            out.status, out.error = UNSUPPORTED, "legacy spreadsheet (.xls/.et, BIFF): its text is not read"
            return out
        if not ole.exists("WordDocument"):
            out.extractor = "none"
            out.status, out.error = UNSUPPORTED, "an OLE file with no WordDocument stream: not read"
            return out
        try:
            text = _word_text(ole)
        except (ValueError, struct.error, OSError, IndexError) as exc:
            return _fail(out, f"damaged .doc: {type(exc).__name__}: {str(exc)[:200]}")
    budget = Budget(limits)
    if not budget.add(out.pages, text):
        out.status, out.error = PARTIAL, budget.stopped
    if not text.strip():
        out.status, out.error = EMPTY, "no text in the document"
    return out


def _bad_header(data: bytes) -> str | None:
    """What is wrong with the compound file header's sizes, if anything (MS-CFB 2.2: a sector is 512 or 4096
    bytes, a mini sector 64)."""
    if len(data) < 512:
        return f"{len(data)} bytes, shorter than its 512-byte header"
    sector, mini = struct.unpack_from("<HH", data, 30)
    if sector not in (9, 12):
        return f"sector size 2^{sector} in its header (expected 2^9 or 2^12 bytes)"
    if mini != 6:
        return f"mini sector size 2^{mini} in its header (expected 2^6 bytes)"
    return None


def _word_text(ole) -> str:
    word = ole.openstream("WordDocument").read()
    if len(word) < 0x1AA:
        raise ValueError("WordDocument stream too short for a Word 97 FIB")
    flags = struct.unpack_from("<H", word, 0x0A)[0]
    if flags & 0x0100:
        raise ValueError("the document is encrypted")
    table_name = "1Table" if flags & 0x0200 else "0Table"
    if not ole.exists(table_name):
        raise ValueError(f"no {table_name} stream")
    table = ole.openstream(table_name).read()
    fc_clx, lcb_clx = struct.unpack_from("<II", word, 0x1A2)
    clx = table[fc_clx : fc_clx + lcb_clx]
    i = 0
    while i < len(clx) and clx[i] == 0x01:  # Prc: property modifiers, skipped
        i += 3 + struct.unpack_from("<H", clx, i + 1)[0]
    if i >= len(clx) or clx[i] != 0x02:
        raise ValueError("no piece table in the CLX")
    lcb = struct.unpack_from("<I", clx, i + 1)[0]
    plc = clx[i + 5 : i + 5 + lcb]
    n = (lcb - 4) // 12
    cps = struct.unpack_from(f"<{n + 1}I", plc, 0)
    parts = []
    for k in range(n):
        fc = struct.unpack_from("<I", plc, 4 * (n + 1) + 8 * k + 2)[0]
        chars = cps[k + 1] - cps[k]
        if fc & 0x40000000:
            start = (fc & 0x3FFFFFFF) // 2
            parts.append(word[start : start + chars].decode("cp1252", "replace"))
        else:
            parts.append(word[fc : fc + 2 * chars].decode("utf-16-le", "replace"))
    text = _FIELD.sub(r"\1", "".join(parts))
    text = text.replace("\r", "\n").replace("\x07", "\t").replace("\x0b", "\n").replace("\x0c", "\n")
    return _CONTROL.sub("", text).strip()


def _fail(out: Extracted, message: str) -> Extracted:
    out.status, out.error = ERROR, message
    return out
