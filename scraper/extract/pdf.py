"""PDF with pypdf, page by page: the text layer of each page; a file of images only is a scan (no OCR)."""

from __future__ import annotations

import io
import logging

from scraper.extract.base import EMPTY, ERROR, PARTIAL, SCANNED, Budget, Extracted, Limits

VERSION = "pdf/1"
_FORGET_EVERY = 20  # pages between dropping pypdf's cache of parsed objects (memory stays flat)
logging.getLogger("pypdf").setLevel(logging.ERROR)  # it warns on every odd xref of real-world files


def library() -> str:
    import pypdf

    return f"pypdf {pypdf.__version__}"


def extract(data: bytes, limits: Limits) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    out = Extracted("pdf", VERSION, library())
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not _unlock(reader):
            return _fail(out, "encrypted PDF: it needs a password to open")
        count = len(reader.pages)
    except FileNotDecryptedError:
        return _fail(out, "encrypted PDF: it needs a password to open")
    except DependencyMissing as exc:
        return _fail(out, str(exc))
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        return _fail(out, f"damaged PDF: {_one_line(exc)}")
    if count == 0:
        return _fail(out, "damaged PDF: no pages found")
    budget, images, bad = Budget(limits), 0, []
    for i in range(count):
        try:
            page = reader.pages[i]
            text = page.extract_text() or ""
            images += not text.strip() and _has_image(page)
        except Exception as exc:  # noqa: BLE001 - one unreadable page never loses the others
            text = ""
            bad.append(f"page {i + 1}: {_one_line(exc)}")
        if not budget.add(out.pages, text.strip("\n")):
            break
        if (i + 1) % _FORGET_EVERY == 0:
            _forget(reader)
    if bad and len(bad) == len(out.pages):
        return _fail(out, f"damaged PDF: no page readable ({bad[0]})")
    if not any(p.strip() for p in out.pages):
        out.status = SCANNED if images else EMPTY
        out.error = (
            f"scanned: {images} of {count} pages are images with no text layer (OCR is not done)"
            if images
            else "no text in any page"
        )
    elif budget.stopped or bad:
        out.status = PARTIAL
        out.error = "; ".join([*([budget.stopped] if budget.stopped else []), *bad[:3]])
    return out


class DependencyMissing(Exception):
    pass


def _unlock(reader) -> bool:
    """Many official PDFs are encrypted with an empty user password (printing or copying restricted)."""
    try:
        return bool(reader.decrypt(""))
    except Exception as exc:  # noqa: BLE001 - pypdf raises DependencyError for AES without cryptography
        if type(exc).__name__ == "DependencyError":
            raise DependencyMissing(f"encrypted PDF: cannot decrypt ({_one_line(exc)})") from None
        return False


def _has_image(page) -> bool:
    try:
        xobjects = page["/Resources"]["/XObject"].get_object()
        return any(xobjects[k].get_object().get("/Subtype") == "/Image" for k in xobjects)
    except Exception:  # noqa: BLE001 - no resources, or damaged ones
        return False


def _forget(reader) -> None:
    """Drop parsed objects pypdf caches; pages read again re-parse them from the bytes."""
    cache = getattr(reader, "resolved_objects", None)
    if isinstance(cache, dict):
        cache.clear()


def _fail(out: Extracted, message: str) -> Extracted:
    out.status, out.error = ERROR, message
    return out


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__
