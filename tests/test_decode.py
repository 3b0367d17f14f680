"""scraper.decode: BOM, header, meta, detection, gb2312/gbk read as gb18030, fallbacks."""

import codecs

import pytest

from scraper.decode import canonical_encoding, decode_html, meta_charset, sniff_binary

RARE = "喆堃珺镕"  # in GBK, not in GB2312
TEXT = f"开化县人民政府办公室关于印发法治政府建设年度报告的通知，联系人{RARE}。" * 4


def page(decl: str = "", text: str = TEXT) -> str:
    return f"<html><head>{decl}<title>报告</title></head><body><p>{text}</p></body></html>"


def test_utf8_meta():
    assert decode_html(page('<meta charset="utf-8">').encode("utf-8"), None) == (
        page('<meta charset="utf-8">'),
        "utf-8",
    )


def test_bom_wins_over_declarations():
    html = page('<meta charset="gbk">')
    assert decode_html(codecs.BOM_UTF8 + html.encode("utf-8"), "text/html; charset=gbk") == (html, "utf-8-sig")
    assert decode_html(codecs.BOM_UTF16_LE + html.encode("utf-16-le"), None) == (html, "utf-16")


def test_header_charset_gbk_read_as_gb18030():
    html = page()
    assert decode_html(html.encode("gbk"), "text/html; charset=GBK") == (html, "gb18030")


def test_meta_gb2312_with_gbk_only_characters():
    html = page('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">')
    text, encoding = decode_html(html.encode("gbk"), "text/html")
    assert encoding == "gb18030" and RARE in text and text == html


def test_no_declaration_detected_as_gb18030():
    html = page()
    assert decode_html(html.encode("gbk"), None) == (html, "gb18030")


def test_header_beats_meta():
    html = page('<meta charset="utf-8">')
    assert decode_html(html.encode("gbk"), "text/html;charset=gb2312")[1] == "gb18030"


@pytest.mark.parametrize("label", ["gb2312", "GBK", "gb_2312-80", "x-gbk", "GB2312"])
def test_gb_aliases(label):
    assert canonical_encoding(label) == "gb18030"


def test_unknown_or_wrong_declaration_falls_through():
    html = page('<meta charset="no-such-charset">')
    assert decode_html(html.encode("utf-8"), "text/html; charset=bogus") == (html, "utf-8")
    # declared utf-8 but the bytes are GBK: strict decode fails, detection finds gb18030
    assert decode_html(page().encode("gbk"), "text/html; charset=utf-8") == (page(), "gb18030")


def test_latin1_header_is_weak():
    html = page()
    assert decode_html(html.encode("gbk"), "text/html; charset=ISO-8859-1") == (html, "gb18030")


def test_invalid_utf8_falls_back_with_replacement():
    body = page('<meta charset="utf-8">').encode("utf-8").replace(b"<p>", b"<p>\xff\xfe\xfa" * 50)
    text, encoding = decode_html(body, None)
    assert encoding == "utf-8-replace" and "\ufffd" in text and "<title>报告</title>" in text


def test_stray_bad_byte_keeps_declared_encoding():
    body = page().encode("gbk").replace(b"<p>", b"<p>\x81\x20")
    text, encoding = decode_html(body, "text/html; charset=gbk")
    assert encoding == "gb18030-replace" and RARE in text


def test_meta_charset_only_in_first_4kb():
    assert meta_charset(b"<meta charset='gbk'>") == "gbk"
    assert meta_charset(b" " * 5000 + b"<meta charset='gbk'>") is None
    assert meta_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=GB2312" />') == "GB2312"


@pytest.mark.parametrize(
    "body, what",
    [
        (b"%PDF-1.7\n%\xe2\xe3", "a PDF"),
        (b"  \n%PDF-1.4", "a PDF"),
        (b"PK\x03\x04\x14\x00", "a ZIP archive (docx/xlsx/ofd/zip)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "an OLE2 document (doc/xls/wps)"),
        (b"\x89PNG\r\n\x1a\n\x00", "a PNG image"),
        (b"\xff\xd8\xff\xe0", "a JPEG image"),
        (b"GIF89a\x01", "a GIF image"),
        (b"\x1f\x8b\x08\x00", "gzip-compressed data"),
        (b"<html>\x00\x00</html>", "binary (NUL bytes)"),
    ],
)
def test_sniff_binary(body, what):
    assert sniff_binary(body) == what


def test_sniff_binary_passes_html_and_utf16():
    assert sniff_binary(page().encode("utf-8")) is None
    assert sniff_binary(codecs.BOM_UTF16_LE + page().encode("utf-16-le")) is None
    assert sniff_binary(b"") is None
