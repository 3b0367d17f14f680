"""Which extractor reads a file (its magic bytes first, then its name), and zip archives one level deep."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from scraper.extract import ofd, office, ole, pdf, plain
from scraper.extract.base import (
    ERROR,
    OK,
    PARTIAL,
    UNSUPPORTED,
    Budget,
    Extracted,
    Limits,
    TooBig,
    check_zip,
    read_member,
)

ZIP_VERSION = "zip/1"
_TEXT_NAMES = (".txt", ".csv", ".text")

Extractor = Callable[[bytes, Limits], Extracted]


def _zip(data: bytes, limits: Limits) -> Extracted:
    """Each member read by its own extractor (a zip inside is not opened): one page a member page."""
    out = Extracted("zip", ZIP_VERSION, "zipfile")
    out.labels = []
    budget, notes = Budget(limits), []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            check_zip(zf, limits)
            for info in zf.infolist():
                if info.is_dir():
                    continue
                name = _member_name(info)
                body = read_member(zf, info.filename, limits)
                key = extractor_for(body, name)
                if key == "zip":
                    notes.append(f"{name}: a zip inside the zip is not opened")
                    continue
                got = EXTRACTORS[key][1](body, limits)
                if got.status not in (OK, PARTIAL):
                    notes.append(f"{name}: {got.error}")
                for n, page in enumerate(got.pages, 1):
                    out.labels.append(f"{name} p{n}" if len(got.pages) > 1 else name)
                    if not budget.add(out.pages, page):
                        out.status, out.error = PARTIAL, budget.stopped
                        return out
    except TooBig as exc:
        out.status, out.error = ERROR, str(exc)
        return out
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        out.status, out.error = ERROR, f"damaged zip: {type(exc).__name__}: {str(exc)[:200]}"
        return out
    if notes:
        out.error = "; ".join(notes[:5]) + (f" (and {len(notes) - 5} more)" if len(notes) > 5 else "")
        if not out.pages:
            out.status = ERROR
    return out


def _member_name(info: zipfile.ZipInfo) -> str:
    """Chinese zips store GBK names without the UTF-8 flag: zipfile read them as cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _unsupported(data: bytes, limits: Limits) -> Extracted:
    return Extracted("none", "none/1", None, UNSUPPORTED, error="a format whose text is not read")


EXTRACTORS: dict[str, tuple[str, Extractor]] = {
    "pdf": (pdf.VERSION, pdf.extract),
    "docx": (office.DOCX_VERSION, office.extract_docx),
    "xlsx": (office.XLSX_VERSION, office.extract_xlsx),
    "ofd": (ofd.VERSION, ofd.extract),
    "doc": (ole.VERSION, ole.extract),
    "et": (ole.VERSION, ole.extract),
    "txt": (plain.VERSION, plain.extract),
    "zip": (ZIP_VERSION, _zip),
    "none": ("none/1", _unsupported),
}


def version_of(extractor: str) -> str | None:
    """The current version of an extractor (None for one no longer known)."""
    entry = EXTRACTORS.get(extractor)
    return entry[0] if entry else None


def extractor_for(data: bytes, name: str = "") -> str:
    head, lower = data[:1024], name.lower()
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(ole.OLE_MAGIC):
        return "doc"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = {n.lstrip("/") for n in zf.namelist()}
        except (zipfile.BadZipFile, OSError, EOFError):
            return "zip"
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "OFD.xml" in names:
            return "ofd"
        return "zip"
    if lower.endswith(_TEXT_NAMES):
        return "txt"
    return "none"


def extract(data: bytes, name: str = "", limits: Limits = Limits()) -> Extracted:
    """The text of one file. Never raises for a bad file: status and error say what went wrong."""
    key = extractor_for(data, name)
    version, fn = EXTRACTORS[key]
    if len(data) > limits.max_file_bytes:
        return Extracted(
            key, version, None, ERROR, error=f"too large to read: {len(data):,} bytes (limit {limits.max_file_bytes:,})"
        )
    try:
        return fn(data, limits)
    except RecursionError:
        return Extracted(key, version, None, ERROR, error="damaged file: nesting too deep to read")
    except MemoryError:
        return Extracted(key, version, None, ERROR, error="too large to read: out of memory")
