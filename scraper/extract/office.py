"""Office Open XML: .docx with python-docx (paragraphs and table cells), .xlsx with openpyxl (cell text,
one page a sheet). Both are zips: the zip bomb guard runs before the library opens them."""

from __future__ import annotations

import io
import zipfile

from scraper.extract.base import EMPTY, ERROR, PARTIAL, Budget, Extracted, Limits, TooBig, check_zip

DOCX_VERSION, XLSX_VERSION = "docx/1", "xlsx/1"


def extract_docx(data: bytes, limits: Limits) -> Extracted:
    from importlib.metadata import version

    import docx

    out = Extracted("docx", DOCX_VERSION, f"python-docx {version('python-docx')}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            check_zip(zf, limits)
        document = docx.Document(io.BytesIO(data))
        lines = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                cells = list(dict.fromkeys(c.text for c in row.cells))  # merged cells repeat
                lines.append("\t".join(cells))
    except TooBig as exc:
        return _fail(out, str(exc))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds on a damaged file
        return _fail(out, f"damaged .docx: {type(exc).__name__}: {str(exc)[:200]}")
    return _finish(out, ["\n".join(lines).strip()], limits)


def extract_xlsx(data: bytes, limits: Limits) -> Extracted:
    import openpyxl

    out = Extracted("xlsx", XLSX_VERSION, f"openpyxl {openpyxl.__version__}")
    budget = Budget(limits)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            check_zip(zf, limits)
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            labels = []
            for sheet in book.worksheets:
                rows = (
                    "\t".join("" if v is None else str(v) for v in row).rstrip("\t")
                    for row in sheet.iter_rows(values_only=True)
                )
                labels.append(sheet.title)
                if not budget.add(out.pages, "\n".join(r for r in rows if r)):
                    break
        finally:
            book.close()
    except TooBig as exc:
        return _fail(out, str(exc))
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
        return _fail(out, f"damaged .xlsx: {type(exc).__name__}: {str(exc)[:200]}")
    out.labels = [f"sheet {name}" for name in labels]
    if budget.stopped:
        out.status, out.error = PARTIAL, budget.stopped
    return _empty(out)


def _finish(out: Extracted, pages: list[str], limits: Limits) -> Extracted:
    budget = Budget(limits)
    for page in pages:
        if not budget.add(out.pages, page):
            out.status, out.error = PARTIAL, budget.stopped
            break
    return _empty(out)


def _empty(out: Extracted) -> Extracted:
    if not any(p.strip() for p in out.pages):
        out.status, out.error = EMPTY, "no text in the file"
    return out


def _fail(out: Extracted, message: str) -> Extracted:
    out.status, out.error = ERROR, message
    return out
