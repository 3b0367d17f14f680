"""parse_article end to end on the Kaihua seed (a Hanweb article), encodings, errors, hashing."""

import pytest

from scraper.parse import EmptyPageError, NotHtmlError, ParsedArticle, ParseError, parse_article

URL = "http://www.kaihua.gov.cn/art/2025/3/5/art_1229000004_59012345.html"
TITLE = "开化县2024年法治政府建设年度报告"
FIRST = "2024年，开化县始终坚持以习近平新时代中国特色社会主义思想为指导"
PARAGRAPHS = [
    f"　　{FIRST}，深入学习贯彻习近平法治思想，全面推进法治政府建设。现将有关情况报告如下。",
    "　　一、主要做法及成效",
    "　　（一）坚持党的领导，压实法治建设责任。县委常委会会议专题研究法治政府建设工作。",
    "　　二、2025年工作思路",
    "　　持续深化法治政府建设。（联系人：王喆、李堃、张珺、刘镕）",
]
META_TABLE = """<table class="xxgk_table">
<tr><td>索引号：</td><td>113308245972094984/2025-01529</td><td>公开方式：</td><td>主动公开</td></tr>
<tr><td>文号：</td><td></td><td>公开日期：</td><td>2025-03-05</td></tr>
<tr><td>发布单位：</td><td>县府办</td><td>有效性：</td><td></td></tr>
</table>"""
FIELDS = {
    "索引号": "113308245972094984/2025-01529",
    "公开方式": "主动公开",
    "文号": "",
    "公开日期": "2025-03-05",
    "发布单位": "县府办",
    "有效性": "",
}


def kaihua(
    decl='<meta charset="utf-8">',
    visits="1024",
    stamp="1741140000000",
    maketime="2025-03-05 09:30:00",
    paragraphs=PARAGRAPHS,
    table_inside_body=False,
) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    if table_inside_body:
        content = f'<div id="zoom">{META_TABLE}{body}</div>'
    else:
        content = (
            f'{META_TABLE}<div class="bt-content zoom"><!--<$[信息内容]>begin-->{body}<!--<$[信息内容]>end--></div>'
        )
    return f"""<!DOCTYPE html><html><head>{decl}
<title>开化县人民政府 {TITLE}</title>
<meta name="ArticleTitle" content="{TITLE}"><meta name="PubDate" content="2025-03-05 09:30">
<meta name="ContentSource" content="县府办"><meta name='Maketime' content='{maketime}'>
<script>var x = "<div>索引号：</div>";</script><style>.nav{{color:red}}</style></head>
<body><div id="barrierfree_container" pageTimestamp="{stamp}">
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/col/col1229000001/index.html">政府信息公开</a></li>
<li><a href="/col/col1229000002/index.html">政策解读</a></li></ul></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/col/col1229000003/index.html">法治政府</a></div>
<p class="bt-art-title"><!--<$[标题名称(html)]>begin-->{TITLE}<!--<$[标题名称(html)]>end--></p>
<div class="bt-art-assist">浏览次数：<span id="artcount">{visits}</span></div>
{content}
<div class="footer">主办：开化县人民政府办公室 <a href="/col/col1229000009/index.html">网站地图</a></div>
</div></body></html>"""


def parsed(html: str, content_type: str | None = None, encoding: str = "utf-8") -> ParsedArticle:
    return parse_article(html.encode(encoding), URL, content_type)


def without_encoding(record: ParsedArticle) -> dict:
    data = record.to_dict()
    data.pop("encoding")
    return data


def test_kaihua_seed():
    record = parsed(kaihua())
    assert record.index_no == "113308245972094984/2025-01529"
    assert record.title == TITLE
    assert record.disclosure == "主动公开"
    assert record.doc_no is None
    assert record.publish_date == "2025-03-05"
    assert record.publisher == "县府办"
    assert record.validity is None
    assert record.fields == FIELDS
    assert record.has_metadata is True
    assert record.warnings == []
    assert record.body_text.startswith(FIRST)
    lines = record.body_text.split("\n")
    assert "一、主要做法及成效" in lines and "二、2025年工作思路" in lines
    for noise in ("索引号", "公开方式", "113308245972094984", "首页", "政府信息公开", "浏览次数", "主办", "color"):
        assert noise not in record.body_text
    assert record.related == []  # the nav's 政策解读 column link is not a related 解读


def test_kaihua_table_inside_content_container():
    record = parsed(kaihua(table_inside_body=True))
    assert record.fields == FIELDS
    assert record.body_text == parsed(kaihua()).body_text


@pytest.mark.parametrize(
    "decl, content_type",
    [
        ("", "text/html; charset=GBK"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', "text/html"),
        ("", None),
    ],
    ids=["header-gbk", "meta-gb2312-only", "undeclared"],
)
def test_gbk_page_parses_identically(decl, content_type):
    reference = parsed(kaihua())
    record = parsed(kaihua(decl=decl), content_type, encoding="gbk")
    assert record.encoding == "gb18030"
    assert "王喆、李堃、张珺、刘镕" in record.body_text
    assert without_encoding(record) == without_encoding(reference)
    assert record.content_hash() == reference.content_hash()


def test_content_hash_ignores_volatile_bits():
    one = parsed(kaihua())
    two = parsed(kaihua(visits="99999", stamp="1786770147377", maketime="2026-01-01 00:00:00"))
    assert one.content_hash() == two.content_hash()
    changed = parsed(kaihua(paragraphs=PARAGRAPHS[:-1] + ["　　持续深化法治政府建设，修改了一句。"]))
    assert changed.content_hash() != one.content_hash()


def test_pdf_body_is_not_html():
    with pytest.raises(NotHtmlError, match="body is a PDF") as err:
        parse_article(b"%PDF-1.7\n1 0 obj\n", URL)
    assert err.value.reason == "body is a PDF" and err.value.url == URL


def test_nul_bytes_are_not_html():
    with pytest.raises(NotHtmlError, match=r"body is binary \(NUL bytes\)"):
        parse_article(b"<html>\x00\x01\x02</html>", URL)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"lorem ipsum dolor",
        bytes(range(1, 256)) * 8,
        b"<html><body><div class='nav'><a href='/'>home</a></div></body></html>",
    ],
)
def test_empty_or_garbage_page(body):
    with pytest.raises(EmptyPageError, match="no title and no body"):
        parse_article(body, URL)


def test_page_without_metadata_table():
    html = "<html><head><title>通知</title></head><body><div id='zoom'><p>正文第一段。</p></div></body></html>"
    record = parse_article(html.encode(), URL)
    assert record.has_metadata is False and record.fields == {} and record.index_no is None
    assert record.title == "通知" and record.body_text == "正文第一段。"
    assert "no metadata block found" in record.warnings


def test_deeply_nested_html_does_not_crash():
    html = (
        "<html><head><title>深</title></head><body><div id='zoom'>"
        + "<div>" * 100_000
        + "深层正文"
        + "</div>" * 100_000
        + "</div></body></html>"
    )
    record = parse_article(html.encode(), URL)
    assert record.body_text == "深层正文"
    assert any("nested deeper" in w for w in record.warnings)


def test_invalid_utf8_bytes_do_not_crash():
    body = kaihua().encode("utf-8").replace(b"<p>", b"<p>\xff\xfe\x80", 3)
    record = parse_article(body, URL)
    assert record.index_no == "113308245972094984/2025-01529"
    assert record.encoding.endswith("-replace") and any("replacement" in w for w in record.warnings)


def test_invalid_gbk_bytes_do_not_crash():
    body = kaihua(decl="").encode("gbk").replace(b"<p>", b"<p>\x81\x20\xfe", 2)
    record = parse_article(body, URL, "text/html; charset=gbk")
    assert record.encoding == "gb18030-replace" and record.title == TITLE
    garbled = b"<html><body>" + b"\x81\x20" * 2000 + b"</body></html>"
    with pytest.raises(ParseError):  # mostly undecodable: no title, no body
        parse_article(garbled, URL, "text/html; charset=gbk")


def test_unexpected_errors_are_wrapped(monkeypatch):
    import scraper.parse.article as article

    def boom(*_):
        raise RuntimeError("kaput")

    monkeypatch.setattr(article, "find_block", boom)
    with pytest.raises(ParseError, match="unexpected RuntimeError") as err:
        parse_article(kaihua().encode(), URL)
    assert err.value.url == URL and not isinstance(err.value, (NotHtmlError, EmptyPageError))


def test_full_width_index_number_in_table():
    html = kaihua().replace(
        "113308245972094984/2025-01529", "１１３３０８２４５９７２０９４９８４／２０２５－０１５２９"
    )
    record = parsed(html)
    assert record.index_no == "113308245972094984/2025-01529"
    assert record.warnings == []


def test_corrupted_index_number_is_kept_with_warning():
    record = parsed(kaihua().replace("113308245972094984/", "113308245972094985/"))
    assert record.index_no == "113308245972094985/2025-01529"
    assert record.warnings == ["index_no check digit invalid"]


def test_relative_links_resolve_against_base_href():
    html = (
        "<html><head><base href='http://cdn.example.gov.cn/files/'><title>T</title></head><body>"
        "<div id='zoom'><p>正文</p><a href='a.pdf'>附件一</a><a href='/x/政策解读.html'>政策解读</a></div></body></html>"
    )
    record = parse_article(html.encode(), URL)
    assert [a.url for a in record.attachments] == ["http://cdn.example.gov.cn/files/a.pdf"]
    assert [r.url for r in record.related] == ["http://cdn.example.gov.cn/x/政策解读.html"]


def test_parser_is_pure():
    import re
    from pathlib import Path

    import scraper.decode
    import scraper.parse

    files = [*Path(scraper.parse.__file__).parent.glob("*.py"), Path(scraper.decode.__file__)]
    for path in files:
        source = path.read_text(encoding="utf-8")
        for forbidden in ("storage", "cli", "schedules", "simulator", "httpx"):
            # storage.contract alone: the field list, a plain dataclass with no imports of its own
            assert not re.search(rf"^\s*(from|import)\s+{forbidden}\b(?!\.contract import)", source, re.M), (
                path.name,
                forbidden,
            )
    import storage.contract

    assert not re.search(
        r"^\s*(from|import)\s+(?!__future__|dataclasses|unicodedata)",
        Path(storage.contract.__file__).read_text(encoding="utf-8"),
        re.M,
    ), "storage/contract.py must stay free of imports"


def test_version_and_hash_shape():
    from scraper.parse import PARSER_VERSION

    assert isinstance(PARSER_VERSION, str) and PARSER_VERSION
    assert len(parsed(kaihua()).content_hash()) == 64
