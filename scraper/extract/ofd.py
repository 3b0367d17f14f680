"""OFD (GB/T 33190, China's fixed-layout format): a zip of XML. OFD.xml names each document's
Document.xml, which lists its pages in order; each page's Content.xml holds TextObject/TextCode text.
Text objects on one baseline join without a space (Chinese), a new baseline starts a new line."""

from __future__ import annotations

import io
import posixpath
import xml.etree.ElementTree as ET
import zipfile

from scraper.extract.base import EMPTY, ERROR, PARTIAL, Budget, Extracted, Limits, TooBig, check_zip, read_member

VERSION = "ofd/1"


def extract(data: bytes, limits: Limits) -> Extracted:
    out = Extracted("ofd", VERSION, "xml.etree")
    budget = Budget(limits)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            check_zip(zf, limits)
            names = {n.lstrip("/"): n for n in zf.namelist()}

            def xml(path: str) -> ET.Element:
                key = path.lstrip("/")
                if key not in names:
                    raise ValueError(f"{path} is missing")
                return ET.fromstring(read_member(zf, names[key], limits))

            for doc_path in [_text(e) for e in xml("OFD.xml").iter() if _local(e.tag) == "DocRoot"]:
                doc = xml(doc_path)
                base = posixpath.dirname(doc_path.lstrip("/"))
                for page in (e for e in doc.iter() if _local(e.tag) == "Page"):
                    loc = page.get("BaseLoc", "")
                    path = loc.lstrip("/") if loc.startswith("/") else posixpath.normpath(posixpath.join(base, loc))
                    if not budget.add(out.pages, _page_text(xml(path))):
                        out.status, out.error = PARTIAL, budget.stopped
                        return out
    except TooBig as exc:
        return _fail(out, str(exc))
    except (zipfile.BadZipFile, ET.ParseError, ValueError, KeyError, OSError, EOFError) as exc:
        return _fail(out, f"damaged OFD: {type(exc).__name__}: {str(exc)[:200]}")
    if not out.pages:
        return _fail(out, "damaged OFD: no pages listed")
    if not any(p.strip() for p in out.pages):
        out.status, out.error = EMPTY, "no text objects in any page (a scan? OCR is not done)"
    return out


def _page_text(root: ET.Element) -> str:
    lines: list[str] = []
    last_y = None
    for obj in (e for e in root.iter() if _local(e.tag) == "TextObject"):
        chunk = "".join(code.text or "" for code in obj if _local(code.tag) == "TextCode")
        y = _y(obj)
        if lines and last_y is not None and y is not None and abs(y - last_y) < 1.0:
            lines[-1] += chunk
        else:
            lines.append(chunk)
        last_y = y
    return "\n".join(lines).strip()


def _y(obj: ET.Element):
    try:
        return float(obj.get("Boundary", "").split()[1])
    except (IndexError, ValueError):
        return None


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(e: ET.Element) -> str:
    return (e.text or "").strip()


def _fail(out: Extracted, message: str) -> Extracted:
    out.status, out.error = ERROR, message
    return out
