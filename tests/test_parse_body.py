"""Body container choice, plain-text rendering, attachment and 解读 links."""

import pytest

from scraper.parse import Link, parse_article
from scraper.parse.links import attachment_filename

URL = "http://www.example.gov.cn/art/2025/1/2/art_1_2.html"
HEX = "0123456789abcdef0123456789abcdef"


def doc(inner: str, head: str = "<title>标题</title>") -> bytes:
    return f"<html><head>{head}</head><body>{inner}</body></html>".encode()


def test_plain_text_rules():
    inner = """<div id="zoom"><h3>一、 总体要求</h3><p>　　第一段&nbsp;&nbsp;有  空格。<br>换行后</p>
        <ul><li>甲</li><li>乙</li></ul><table><tr><td><p>名称</p></td><td>数量</td></tr><tr><td>苹果</td><td>3</td></tr></table>
        <p>\u3000</p><script>var a = "不要";</script><style>p{}</style><nav>导航</nav><footer>页脚</footer>
        <div class="share">分享到</div></div>"""
    assert parse_article(doc(inner), URL).body_text == "\n".join(
        ["一、 总体要求", "第一段 有 空格。", "换行后", "甲", "乙", "名称 数量", "苹果 3"]
    )


@pytest.mark.parametrize(
    "selector",
    [
        "div class='TRS_Editor'",
        "div id='UCAP-CONTENT'",
        "div class='article_con'",
        "div class='pages_content'",
        "div class='zw'",
        "div class='content'",
    ],
)
def test_container_candidates(selector):
    inner = f"<div class='header'>头部</div><{selector}><p>正文内容</p></div><div class='foot'>底部</div>"
    assert parse_article(doc(inner), URL).body_text == "正文内容"


def test_jcms_marker_beats_selectors_and_prunes_outside():
    inner = (
        "<div class='content'><p>前面</p><!--<$[信息内容]>begin--><p>正文</p><!--<$[信息内容]>end--><p>后面</p></div>"
        "<div id='zoom'><p>别处</p></div>"
    )
    assert parse_article(doc(inner), URL).body_text == "正文"


def test_no_container_warns():
    record = parse_article(doc("<div class='x'>只有文字</div>"), URL)
    assert record.body_text == "" and "no body container found" in record.warnings


def test_attachments():
    inner = f"""<div id="zoom"><p>正文</p>
      <a href="/module/download/downfile.jsp?classid=0&filename={HEX}.xlsx">统计表</a>
      <a href="/api-gateway/jpaas-web-server/front/document/download?fileUrl=abc%3D&fileName=%E9%99%84%E4%BB%B6.wps">点击下载</a>
      <a download="正式名.pdf" href="./P0202501.PDF">链接文字</a>
      <a href="./P0202501.PDF">重复</a>
      <a href="/art/2025/1/1/art_1_1.html">另一篇文章</a><a href="javascript:void(0)">x.pdf</a>
      <a href="files/说明.TXT">说明</a></div>
      <div class="attachment"><a href="/upload/2.ofd">附件2</a></div>
      <div class="sidebar"><a href="/other.pdf">侧栏</a></div>"""
    record = parse_article(doc(inner), URL)
    assert record.attachments == [
        Link("统计表", f"http://www.example.gov.cn/module/download/downfile.jsp?classid=0&filename={HEX}.xlsx"),
        Link(
            "附件.wps",
            "http://www.example.gov.cn/api-gateway/jpaas-web-server/front/document/download"
            "?fileUrl=abc%3D&fileName=%E9%99%84%E4%BB%B6.wps",
        ),
        Link("正式名.pdf", "http://www.example.gov.cn/art/2025/1/2/P0202501.PDF"),
        Link("说明", "http://www.example.gov.cn/art/2025/1/2/files/说明.TXT"),
        Link("附件2", "http://www.example.gov.cn/upload/2.ofd"),
    ]


@pytest.mark.parametrize(
    "href, ext",
    [
        ("a/b.DOCX", "docx"),
        ("x.et", "et"),
        ("d?fileName=a.rar", "rar"),
        ("d?filename=a.zip&x=1", "zip"),
        ("a.html", None),
        ("a.pdf.html", None),
    ],
)
def test_attachment_filename(href, ext):
    found = attachment_filename(href)
    assert (found[0] if found else None) == ext


def test_related_links():
    inner = """<div class="nav"><a href="/col/col1/index.html">政策解读</a></div>
      <div class="position"><a href="/col/col2/index.html">政策文件及解读</a></div>
      <div id="zoom"><p>正文</p></div>
      <a id="zcjdlink" href="/art/2025/1/3/art_9_9.html"><img src="jd.png" alt="图解"></a>
      <div class="xgjd"><a href="/art/2025/1/4/art_9_10.html">《某办法》政策解读</a>
      <a href="/jd/">解读栏目</a></div>"""
    assert parse_article(doc(inner), URL).related == [
        Link("图解", "http://www.example.gov.cn/art/2025/1/3/art_9_9.html"),
        Link("《某办法》政策解读", "http://www.example.gov.cn/art/2025/1/4/art_9_10.html"),
    ]


@pytest.mark.parametrize(
    "head, body, title",
    [
        ("<title>站点 标题T</title>", "", "站点 标题T"),
        ("<title>T</title><meta name='ArticleTitle' content='文章标题'>", "<h1>H1</h1>", "文章标题"),
        (
            "<title>T</title>",
            "<p class='x'><!--<$[标题名称(html)]>begin-->标记标题<!--<$[标题名称(html)]>end--></p><h1>H1</h1>",
            "标记标题",
        ),
        ("<title>T</title>", "<p class='con-title'> 标题 甲 </p><h1>H1</h1>", "标题 甲"),
        ("<title>T</title>", "<h2 class='article_title'>TRS 标题</h2>", "TRS 标题"),
    ],
)
def test_title_order(head, body, title):
    assert parse_article(doc(body + "<div id='zoom'>正文</div>", head=head), URL).title == title


@pytest.mark.parametrize(
    "container,table",
    [
        (
            "div id='UCAP-CONTENT'",
            "<table class='xxgk_table'><tr><td>索引号：</td><td>000014349/2025-00012</td>"
            "<td>发文字号：</td><td>国办发〔2025〕5号</td></tr></table>",
        ),
        (
            "div class='main-txt'",
            "<table class='xxgktab'><tr><td>索引号：</td><td>000014349/2025-00012</td>"
            "<td>文件编号：</td><td>国办发〔2025〕5号</td></tr></table>",
        ),
        (
            "div class='article_con'",
            "<div class='xxgk-table'><span>索引号：000014349/2025-00012</span>"
            "<span>文号：国办发〔2025〕5号</span></div>",
        ),
    ],
)
def test_an_embedded_metadata_table_is_read_not_kept_in_the_body(container, table):
    record = parse_article(doc(f"<{container}>{table}<p>正文第一段。</p><p>正文第二段。</p></div>"), URL)
    assert record.body_text == "正文第一段。\n正文第二段。"
    assert record.index_no == "000014349/2025-00012" and record.doc_no == "国办发〔2025〕5号"


def test_files_outside_the_body_found_by_evidence():
    hanweb = f"""<div id="zoom"><p>正文</p></div><div class="bt-box"><div class="xxgk-art-fj"><span>相关附件：</span><ul>
        <li><a href="/module/download/downfile.jsp?classid=0&filename={HEX}.pdf">实施方案.pdf</a></li>
        <li><a href="/module/download/downfile.jsp?classid=0&filename={HEX[::-1]}">附表.xlsx</a></li></ul></div></div>"""
    labelled = """<div class="box"><p>附件下载：</p><a href="http://files.example.gov.cn/x/readfile?id=7">申请表.docx</a>
        <a href="/art/2025/1/1/art_1_1.html">另一篇.doc 的解读</a></div>"""
    script = """<script>var apps = [{name:"公告.pdf", url:"http://files.example.gov.cn/P020250102.pdf"},
        {"name": "\\u8bf4\\u660e", "url": ".\\/P020250103.ofd"}];</script>"""
    clicked = """<span class="fjxz" onclick="download('/attach/2025/plan.wps')">规划文本</span>"""
    chrome = """<div class="footer"><a href="/guide.pdf">指南.pdf</a></div><div class="xgwz"><a href="/r.pdf">相关</a></div>"""
    record = parse_article(doc(hanweb + labelled + script + clicked + chrome), URL)
    assert record.attachments == [
        Link("实施方案.pdf", f"http://www.example.gov.cn/module/download/downfile.jsp?classid=0&filename={HEX}.pdf"),
        Link("附表.xlsx", f"http://www.example.gov.cn/module/download/downfile.jsp?classid=0&filename={HEX[::-1]}"),
        Link("申请表.docx", "http://files.example.gov.cn/x/readfile?id=7"),
        Link("规划文本", "http://www.example.gov.cn/attach/2025/plan.wps"),
        Link("公告.pdf", "http://files.example.gov.cn/P020250102.pdf"),
        Link("说明", "http://www.example.gov.cn/art/2025/1/2/P020250103.ofd"),
    ]


def test_hidden_blocks_say_nothing_in_the_body():
    record = parse_article(doc('<div id="zoom"><p>正文</p><div style="display:none">隐藏的副本</div></div>'), URL)
    assert record.body_text == "正文"


def test_a_file_named_by_its_link_text_loses_the_label():
    """Pingtan (TRS, Fujian): `<div class="article_attachment" ms-if=…>` … `<a href="…/402802528a….doc">附件：NAME.doc</a>`."""
    inner = """<div id="zoom"><p>正文</p></div><div class="article_attachment" id="file_xmb" ms-if="'x'!=''">
        <div class="title_base"><text>附件下载</text></div><ul id="file_ul_fj"><li><a
        href="https://www.pingtan.gov.cn/attachFiles/myfile/DATE_20230823/402802528a210804018a218e0c770007.doc"
        title="附件：审核时限图.doc">附件：审核时限图.doc</a></li></ul></div>"""
    assert parse_article(doc(inner), URL).attachments == [
        Link(
            "审核时限图.doc",
            "https://www.pingtan.gov.cn/attachFiles/myfile/DATE_20230823/402802528a210804018a218e0c770007.doc",
        )
    ]


def test_an_icon_link_gives_way_to_the_link_that_names_the_file():
    """Pingtan 2015 (eWebEditor): each file's name link follows an icon link, and an icon may point at another file."""
    u = "http://www.example.gov.cn/Upload/File/2015/"
    icon = '<a href="{}"><img src="/sysimage/icon16/xls.gif"></a>'
    inner = (
        f'<div id="zoom"><p>{icon.format(u + "20151110153332678.doc")}<a href="{u}20151110153312146.xls">预算表.xls</a></p>'
        f'<p>{icon.format(u + "20151110153312146.xls")}<a href="{u}20151110153332678.doc">批复.doc</a></p>'
        f"<p>{icon.format(u + '20151110153349429.xls')}</p></div>"
    )
    assert parse_article(doc(inner), URL).attachments == [
        Link("预算表.xls", u + "20151110153312146.xls"),
        Link("批复.doc", u + "20151110153332678.doc"),
        Link("20151110153349429.xls", u + "20151110153349429.xls"),
    ]  # no link names it: the path is all there is


def test_no_known_container_takes_the_element_with_the_most_paragraph_text():
    """Gansu's platform: `<div class="detailContent" id="detailContent">` (no class we know), its QR widget inside."""
    inner = """<div class="nav"><p>首页</p></div><div class="main"><h1>标题</h1>
        <div class="detailContent"><p>各市、自治州人民政府：</p><p>现印发你们，请认真贯彻落实。</p><p>2025年2月25日</p>
        <div id="div_div"><div id="qr_container">扫一扫在手机打开当前页</div></div></div></div>
        <div class="footer"><ul><li><a href="http://a.gov.cn/">省财政厅</a></li></ul></div>"""
    record = parse_article(doc(inner), URL)
    assert record.body_text == "各市、自治州人民政府：\n现印发你们，请认真贯彻落实。\n2025年2月25日"
    assert "no body container found" not in record.warnings
