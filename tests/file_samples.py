"""Real files of the formats portals link, made here: PDF with Chinese text in an embedded font (fpdf2
and a CJK font of the machine), a scan (an image, no text layer), an encrypted PDF, a damaged PDF,
.docx, .xlsx, OFD, .txt in GBK, a zip of them and a zip bomb."""

from __future__ import annotations

import io
import subprocess
import zipfile
from functools import lru_cache

import pytest

CJK_FONT_PACKAGE = "fonts-droid-fallback"  # .ci/run installs it


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """A TrueType/OpenType font with Chinese glyphs (fc-list :lang=zh), single-face files first."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(
        {line.split(":")[0].strip() for line in out.splitlines() if line.strip()},
        key=lambda p: (not p.lower().endswith((".ttf", ".otf")), p),
    )
    return files[0] if files else None


def need_cjk_font() -> str:
    font = cjk_font()
    if font is None:
        pytest.fail(f"no font with Chinese glyphs on this machine: apt-get install {CJK_FONT_PACKAGE}")
    return font


def pdf(pages: list[str], password: str | None = None) -> bytes:
    """A PDF of these pages (Chinese only: the fallback CJK font may have no Latin letters or digits)."""
    from fpdf import FPDF

    doc = FPDF()
    doc.add_font("cjk", fname=need_cjk_font())
    doc.set_font("cjk", size=14)
    for text in pages:
        doc.add_page()
        doc.multi_cell(0, 10, text)
    data = bytes(doc.output())
    if password is None:
        return data
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-256")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def scanned_pdf(pages: int = 2) -> bytes:
    from fpdf import FPDF
    from PIL import Image

    doc = FPDF()
    img = Image.new("RGB", (400, 300), "white")
    for x in range(50, 350):
        img.putpixel((x, 150), (0, 0, 0))
    for _ in range(pages):
        doc.add_page()
        doc.image(img, x=10, y=10, w=150)
    return bytes(doc.output())


def damaged_pdf(good: bytes) -> bytes:
    """A real PDF cut in half and its tail overwritten: the cross-reference and most objects gone."""
    half = good[: len(good) // 2]
    return half[:200] + b"\x00garbage\x00" * 50 + half[-100:]


def docx(paragraphs: list[str], table: list[list[str]] = ()) -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


_OFD_NS = "http://www.ofdspec.org/2016"


def ofd(pages: list[list[str]]) -> bytes:
    """An OFD package: OFD.xml -> Doc_0/Document.xml -> Pages/Page_N/Content.xml, a TextObject a line
    (each line split into two TextObjects on the same baseline, as layout tools write them)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "OFD.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{_OFD_NS}" Version="1.0" '
            'DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>x</ofd:DocID></ofd:DocInfo>'
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        )
        page_refs = "".join(
            f'<ofd:Page ID="{i + 10}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages))
        )
        z.writestr(
            "Doc_0/Document.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{_OFD_NS}">'
            f"<ofd:CommonData><ofd:MaxUnitID>99</ofd:MaxUnitID></ofd:CommonData>"
            f"<ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>",
        )
        for i, lines in enumerate(pages):
            objs, oid = [], 100
            for n, line in enumerate(lines):
                y = 20 + 10 * n
                for part, x in ((line[: len(line) // 2], 10), (line[len(line) // 2 :], 10 + 5 * (len(line) // 2))):
                    oid += 1
                    objs.append(
                        f'<ofd:TextObject ID="{oid}" Boundary="{x} {y} 100 8" Font="1" Size="5">'
                        f'<ofd:TextCode X="0" Y="5">{part}</ofd:TextCode></ofd:TextObject>'
                    )
            z.writestr(
                f"Doc_0/Pages/Page_{i}/Content.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{_OFD_NS}"><ofd:Content>'
                f'<ofd:Layer ID="2">{"".join(objs)}</ofd:Layer></ofd:Content></ofd:Page>',
            )
    return buf.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def zip_bomb(gigabytes: float = 1.0) -> bytes:
    """A small zip whose one member unpacks to `gigabytes` of zeros (deflate ~1000:1)."""
    buf = io.BytesIO()
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("budget.txt", "w", force_zip64=True) as fh:
            for _ in range(int(gigabytes * 1024)):
                fh.write(chunk)
    return buf.getvalue()


def word97(text: str) -> bytes:
    """A minimal Word 97 binary document (.doc; WPS writes the same): an OLE compound file holding a
    WordDocument stream (FIB + the text as UTF-16) and a 1Table stream whose CLX maps one piece to it."""
    import struct

    body = text.replace("\n", "\r").encode("utf-16-le")
    word = bytearray(0x800) + body
    struct.pack_into("<H", word, 0, 0xA5EC)  # wIdent
    struct.pack_into("<H", word, 0x0A, 0x0200)  # fWhichTblStm: 1Table
    table = bytearray(
        b"\x02" + struct.pack("<I", 16) + struct.pack("<II", 0, len(text)) + struct.pack("<HIH", 0, 0x800, 0)
    )
    struct.pack_into("<II", word, 0x1A2, 0, len(table))  # fcClx, lcbClx
    streams = [bytes(word.ljust(max(len(word), 4096), b"\0")), bytes(table.ljust(4096, b"\0"))]
    return _compound_file({"WordDocument": streams[0], "1Table": streams[1]})


def _compound_file(streams: dict[str, bytes]) -> bytes:
    """An OLE2 compound file (version 3, 512-byte sectors) of streams of 4096+ bytes (no mini stream)."""
    import struct

    end, free, fat_sect, none = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    fat, data, starts, next_sector = [fat_sect, end], b"", [], 2
    for payload in streams.values():
        padded = payload + b"\0" * (-len(payload) % 512)
        n = len(padded) // 512
        starts.append(next_sector)
        fat += [next_sector + i + 1 for i in range(n - 1)] + [end]
        next_sector += n
        data += padded
    assert len(fat) <= 128
    fat_bytes = struct.pack("<128I", *(fat + [free] * (128 - len(fat))))

    def entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0" if name else b""
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB3I", len(raw), kind, 1, left, right, child)
            + b"\0" * 36
            + struct.pack("<IQ", start, size)
        )

    names = list(streams)  # a red-black tree by (length, name): the shorter name goes left
    directory = (
        entry("Root Entry", 5, none, none, 1, end, 0)
        + entry(names[0], 2, 2, none, none, starts[0], len(streams[names[0]]))
        + entry(names[1], 2, none, none, none, starts[1], len(streams[names[1]]))
        + entry("", 0, none, none, none, 0, 0)
    )
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<109I", 0, *([free] * 108))
    )
    return header + fat_bytes + directory + data
