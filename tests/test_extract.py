"""Text extraction (scraper/extract) of real files made here: each format reads to its text, a bad or
hostile file to a clear per-file error, never an exception."""

from __future__ import annotations

import file_samples as fs
import pytest

from scraper.extract import EMPTY, ERROR, OK, PARTIAL, SCANNED, UNSUPPORTED, Limits, extract

PAGES = ["第一页：关于二〇二五年法治政府建设情况的报告", "第二页：预算执行 财政资金 喆 堃 珺"]


def test_pdf_with_chinese_text_in_an_embedded_font_reads_page_by_page():
    got = extract(fs.pdf(PAGES), "报告.pdf")
    assert (got.extractor, got.status, got.error) == ("pdf", OK, None)
    assert [p.replace("\n", "") for p in got.pages] == PAGES
    assert got.text.count("\f") == 1 and got.version == "pdf/1" and got.library.startswith("pypdf ")


def test_pdf_encrypted_with_a_password_is_a_clear_error_with_an_empty_one_it_reads():
    locked = extract(fs.pdf(["机密内容"], password="secret"), "a.pdf")
    assert (locked.status, locked.error) == (ERROR, "encrypted PDF: it needs a password to open")
    assert extract(fs.pdf(["限制复制的公开文件"], password=""), "a.pdf").pages == ["限制复制的公开文件"]


def test_scanned_and_damaged_pdfs_are_reported_as_such():
    scan = extract(fs.scanned_pdf(3), "扫描件.pdf")
    assert scan.status == SCANNED and "3 of 3 pages are images with no text layer" in scan.error
    assert "OCR is not done" in scan.error
    bad = extract(fs.damaged_pdf(fs.pdf(PAGES)), "bad.pdf")
    assert bad.status == ERROR and bad.error.startswith("damaged PDF:")
    assert extract(b"%PDF-1.7\n" + b"\x00" * 300, "x.pdf").status == ERROR


def test_docx_paragraphs_and_tables():
    got = extract(
        fs.docx(["关于印发《实施方案》的通知", "各乡镇人民政府："], [["项目", "金额"], ["道路改造", "120万元"]]), ""
    )
    assert got.extractor == "docx" and got.status == OK
    assert got.text == "关于印发《实施方案》的通知\n各乡镇人民政府：\n项目\t金额\n道路改造\t120万元"


def test_xlsx_cell_text_one_page_a_sheet():
    got = extract(
        fs.xlsx({"预算表": [["科目", "金额"], ["教育支出", 1200.5], [None, "合计"]], "说明": [["单位：万元"]]})
    )
    assert got.extractor == "xlsx" and got.status == OK
    assert got.pages == ["科目\t金额\n教育支出\t1200.5\n\t合计", "单位：万元"]
    assert got.labels == ["sheet 预算表", "sheet 说明"]


def test_ofd_text_objects_in_page_order_joined_on_a_baseline():
    got = extract(fs.ofd([["电子公文第一行", "第二行：索引号 001"], ["第二页 签发"]]), "公文.ofd")
    assert got.extractor == "ofd" and got.status == OK
    assert got.pages == ["电子公文第一行\n第二行：索引号 001", "第二页 签发"]
    assert extract(fs.zip_of({"OFD.xml": b"<ofd:OFD"}), "x.ofd").error.startswith("damaged OFD:")


def test_txt_in_gbk_and_utf8():
    assert extract("政府信息公开 喆 堃".encode("gbk", "ignore") + "珺".encode("gb18030"), "a.txt").pages == [
        "政府信息公开 喆 堃珺"
    ]
    assert extract("公开目录\r\n第二行".encode(), "a.txt").pages == ["公开目录\n第二行"]
    assert extract(b"", "a.txt").status == EMPTY


def test_zip_one_level_deep_members_named():
    inner = fs.zip_of({"deeper.txt": "不应读取".encode()})
    got = extract(
        fs.zip_of(
            {
                "说明.txt": "压缩包里的说明".encode(),
                "附件.pdf": fs.pdf(["压缩包内的文件第一页", "第二页"]),
                "inner.zip": inner,
            }
        ),
        "files.zip",
    )
    assert got.extractor == "zip" and got.status == OK
    assert got.pages == ["压缩包里的说明", "压缩包内的文件第一页", "第二页"]
    assert got.labels == ["说明.txt", "附件.pdf p1", "附件.pdf p2"]
    assert "inner.zip: a zip inside the zip is not opened" in got.error and "不应读取" not in got.text


def test_zip_bomb_is_refused_before_unpacking():
    got = extract(fs.zip_bomb(0.3), "bomb.zip")
    assert got.status == ERROR and got.error.startswith("zip bomb guard:")
    ratio = extract(fs.zip_of({"word/document.xml": b"\0" * 20_000_000}), "bomb.docx")  # ~1000:1, a docx
    assert ratio.extractor == "docx" and ratio.status == ERROR and "zip bomb guard" in ratio.error


def test_limits_cut_text_and_refuse_huge_files():
    cut = extract(fs.pdf(["第一页内容很长" * 10, "第二页"]), "a.pdf", Limits(max_chars=30))
    assert cut.status == PARTIAL and sum(map(len, cut.pages)) == 30 and "text cut at 30 characters" in cut.error
    huge = extract(b"%PDF-1.4" + b" " * 2000, "a.pdf", Limits(max_file_bytes=1000))
    assert huge.status == ERROR and huge.error.startswith("too large to read: 2,008 bytes")


def test_word97_doc_and_wps_read_through_the_piece_table():
    for name in ("旧版公文.doc", "金山文档.wps"):
        got = extract(fs.word97("关于印发通知的函\n第二段：旧格式文档"), name)
        assert (got.extractor, got.status, got.pages) == ("doc", OK, ["关于印发通知的函\n第二段：旧格式文档"])


def test_legacy_and_unknown_formats_say_what_is_not_read():
    sheet = extract(fs._compound_file({"Workbook": b"\0" * 4096, "Book": b"\0" * 4096}), "预算.et")
    assert (sheet.extractor, sheet.status) == ("et", UNSUPPORTED) and "its text is not read" in sheet.error
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    assert extract(ole, "a.doc").error.startswith("damaged OLE file:")
    huge_sector = ole[:30] + (40000).to_bytes(2, "little") + ole[32:]  # olefile itself failed on 2**40000
    assert extract(huge_sector, "a.doc").error == (
        "damaged OLE file: sector size 2^40000 in its header (expected 2^9 or 2^12 bytes)"
    )
    unknown = extract(b"\x89PNG\r\n\x1a\n....", "a.png")
    assert (unknown.extractor, unknown.status) == ("none", UNSUPPORTED)


@pytest.mark.parametrize("blob", [b"", b"PK\x03\x04garbage", b"%PDF-", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"])
def test_garbage_never_raises(blob):
    assert extract(blob, "x").status in (ERROR, UNSUPPORTED, EMPTY)
