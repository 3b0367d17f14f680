"""Metadata blocks in every §2.2 layout, read label -> value cell by cell."""

import pytest

from scraper.parse import parse_article

URL = "http://www.example.gov.cn/art/2025/1/2/art_1_2.html"


def page(block: str, body: str = "<p>正文。</p>") -> bytes:
    return (
        f"<html><head><title>页面标题</title></head><body><div class='head'>导航</div>{block}"
        f"<div id='zoom'>{body}</div></body></html>"
    ).encode()


LAYOUTS = {
    "td-pairs": """<table class="xxgk_table"><tr><td>索引号：</td><td>014006438/2026-03652</td>
        <td>发布机构：</td><td>市发改委</td></tr><tr><td>文号：</td><td>锡发改〔2026〕1号</td>
        <td>公开日期：</td><td>2026-01-02</td></tr></table>""",
    "th-td-wuxi-markers": """<table class="xxgk_table_wza"><tr><th>信息索引号</th>
        <td><!--<$[SYH]>-->014006438/2026-03652<!--<$[SYH]>--></td><th>生成日期</th><td><!--<$[SCRQ]>-->2025-12-30<!--<$[SCRQ]>--></td></tr>
        <tr><th>发布机构</th><td><!--<$[FBJG]>-->市发改委<!--<$[FBJG]>--></td><th>公开日期</th><td><!--<$[FBRQ]>-->2026-01-02<!--<$[FBRQ]>--></td></tr>
        <tr><th>文件编号</th><td><!--<$[WJBH]>-->锡发改〔2026〕1号<!--<$[WJBH]>--></td><th>效力状况</th><td><!--<$[XLZK]>-->有效<!--<$[XLZK]>--></td></tr></table>""",
    "td-b-govcn": """<table><tr><td><b>索 引 号：</b></td><td>014006438/2026-03652</td><td><b>主题分类：</b></td><td>综合政务</td></tr>
        <tr><td><b>发文机关：</b></td><td>市发改委</td><td><b>成文日期：</b></td><td>2025年12月31日</td></tr>
        <tr><td><b>标　　题：</b></td><td colspan="3">关于印发某办法的通知</td></tr>
        <tr><td><b>发文字号：</b></td><td>锡发改〔2026〕1号</td><td><b>发布日期：</b></td><td>2026年01月02日</td></tr></table>""",
    "li-inline": """<div class="sub"><ul><li>索引号：014006438/2026-03652</li><li>发文机关：市发改委</li>
        <li>文号：锡发改〔2026〕1号</li><li>发布日期：2026-01-02</li><li>体裁分类：通知</li></ul></div>""",
    "dl-dt-dd": """<div class="xxgkml-content"><dl><dt>索引号</dt><dd>014006438/2026-03652</dd><dt>发布机构</dt><dd>市发改委</dd>
        <dt>文号</dt><dd>锡发改〔2026〕1号</dd><dt>发布日期</dt><dd>2026-01-02</dd></dl></div>""",
    "p-span": """<div class="info"><p>索引号：<span>014006438/2026-03652</span></p><p>发布机构：<span>市发改委</span></p>
        <p>文号：<span>锡发改〔2026〕1号</span></p><p>公开日期：<span>2026-01-02</span></p></div>""",
    "span-tt-value": """<div class="xxgk"><div><span class="tt">索引号</span><span class="value">014006438/2026-03652</span></div>
        <div><span class="tt">发布机构</span><span class="value">市发改委</span></div>
        <div><span class="tt">文号</span><span class="value">锡发改〔2026〕1号</span></div>
        <div><span class="tt">发布日期</span><span class="value">2026-01-02</span></div></div>""",
    "th-split-characters": """<table><tr><th>索<br>引<br>号：</th><td>014006438/2026-03652</td></tr>
        <tr><th>发布<span>机构</span>：</th><td>市发改委</td></tr><tr><th>文号：</th><td>锡发改〔2026〕1号</td></tr>
        <tr><th>发布日期：</th><td>2026-01-02</td></tr></table>""",
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_layouts(layout):
    record = parse_article(page(LAYOUTS[layout]), URL)
    assert record.has_metadata
    assert record.index_no == "014006438/2026-03652"
    assert record.publisher == "市发改委"
    assert record.doc_no == "锡发改〔2026〕1号"
    assert record.publish_date == "2026-01-02"
    assert record.body_text == "正文。"
    assert not any(w.startswith("index_no") for w in record.warnings)


def test_wuxi_fields_and_generated_date_is_the_written_date():
    """生成日期 is the written date (on the real ZJ page it is the date the body is signed)."""
    record = parse_article(page(LAYOUTS["th-td-wuxi-markers"]), URL)
    assert record.fields["信息索引号"] == "014006438/2026-03652"
    assert record.fields["生成日期"] == "2025-12-30"
    assert record.validity == "有效" and record.written_date == "2025-12-30"


def test_govcn_extra_fields():
    record = parse_article(page(LAYOUTS["td-b-govcn"]), URL)
    assert record.title == "关于印发某办法的通知"
    assert record.topic == "综合政务" and record.written_date == "2025-12-31"
    assert list(record.fields) == ["索引号", "主题分类", "发文机关", "成文日期", "标题", "发文字号", "发布日期"]


@pytest.mark.parametrize("label", ["发文日期", "生成日期", "成文日期", "制发日期", "印发日期"])
def test_written_date_labels(label):
    block = f"""<table><tr><td>索引号：</td><td>014006438/2026-03652</td><td>{label}：</td><td>2025-12-30</td></tr></table>"""
    record = parse_article(page(block), URL)
    assert record.written_date == "2025-12-30" and record.publish_date is None
    assert record.explain["written_date"] == f"label {label} (metadata block)"


@pytest.mark.parametrize("label", ["索 引 号：", "索\xa0引\xa0号:", "索　引　号", "&nbsp;索引号&nbsp;：", "索引号 :"])
def test_label_padding(label):
    block = (
        f"<table><tr><td>{label}</td><td>014006438/2026-03652</td><td>文\xa0\xa0\xa0\xa0号</td><td>X〔2026〕1号</td></tr>"
        "<tr><td>标　　题</td><td>某通知</td></tr></table>"
    )
    record = parse_article(page(block), URL)
    assert record.fields == {"索引号": "014006438/2026-03652", "文号": "X〔2026〕1号", "标题": "某通知"}
    assert record.title == "某通知"


def test_empty_value_never_shifts_pairs():
    # flattened variant of Kaihua: the empty cell is missing altogether
    block = "<table><tr><td>文号：</td><td>公开日期：</td><td>2025-03-05</td><td>发布单位：</td><td>县府办</td></tr></table>"
    record = parse_article(page(block), URL)
    assert record.fields == {"文号": "", "公开日期": "2025-03-05", "发布单位": "县府办"}
    assert record.doc_no is None and record.publish_date == "2025-03-05"


def test_byline_alone_is_not_a_metadata_block():
    byline = "<div class='info'><span>发布时间：2026-01-02</span><span>来源：办公室</span></div>"
    record = parse_article(page(byline), URL)
    assert record.has_metadata is False


def test_most_labelled_block_wins():
    small = "<table><tr><td>公开方式：</td><td>主动公开</td><td>文号：</td><td>A1号</td></tr></table>"
    record = parse_article(page(small + LAYOUTS["td-pairs"]), URL)
    assert record.doc_no == "锡发改〔2026〕1号" and "公开方式" not in record.fields


def test_unparseable_date_is_kept_raw_with_warning():
    block = "<table><tr><td>索引号：</td><td>014006438/2026-03652</td><td>公开日期：</td><td>见附件</td></tr></table>"
    record = parse_article(page(block), URL)
    assert record.publish_date is None and record.fields["公开日期"] == "见附件"
    assert any("unparseable date in 公开日期" in w for w in record.warnings)


@pytest.mark.parametrize("spaced", ["索\u2002引\u2002号：", "索&ensp;引&ensp;号:", "索\u3000引\u3000号", "：索引号："])
def test_labels_lose_every_kind_of_space_and_both_colons(spaced):
    block = (
        f"<table><tr><td>{spaced}</td><td>014006438/2026-03652</td><td>发布机构：</td><td>市发改委</td></tr></table>"
    )
    assert parse_article(page(block), URL).index_no == "014006438/2026-03652"


def test_a_hidden_or_repeated_value_is_read_once():
    block = """<table><tr><td>索引号：</td><td>014006438/2026-03652</td><td>有效性：</td>
        <td><span>废止</span><span style="display:none">废止</span></td></tr>
        <tr><td>发布机构：</td><td><span>市发改委</span><span>市发改委</span></td><td>文号：</td><td>锡发改〔2026〕1号</td></tr></table>"""
    record = parse_article(page(block), URL)
    assert record.validity == "废止" and record.publisher == "市发改委"


@pytest.mark.parametrize("hide", ['style="display: none"', "hidden", 'ms-if="isMobile"', 'ms-visible="false"'])
def test_the_visible_copy_of_a_doubled_block_wins(hide):
    hidden = f"""<ul class="m-meta" {hide}><li>索引号：000000000/2000-00000</li><li>有效性：失效</li><li>发布机构：旧</li></ul>"""
    shown = """<table><tr><td>索引号：</td><td>014006438/2026-03652</td><td>有效性：</td><td>有效</td></tr>
        <tr><td>发布机构：</td><td>市发改委</td></tr></table>"""
    record = parse_article(page(hidden + shown), URL)
    assert (record.index_no, record.validity, record.publisher) == ("014006438/2026-03652", "有效", "市发改委")


def test_inline_fields_in_a_text_line_fill_what_no_table_gives():
    body = "<p>发文字号：莆市安监〔2016〕46号　成文日期：2016-05-04</p><p>正文。</p>"
    record = parse_article(page("", body), URL)
    assert (record.doc_no, record.written_date) == ("莆市安监〔2016〕46号", "2016-05-04")
    assert record.explain["doc_no"] == "label 发文字号 (inline text line)"
    table = "<table><tr><td>索引号：</td><td>014006438/2026-03652</td><td>文号：</td><td>锡发改〔2026〕1号</td></tr></table>"
    assert parse_article(page(table, body), URL).doc_no == "锡发改〔2026〕1号"  # the table wins


def test_extra_labels_do_not_shift_fields():
    block = """<table><tr><td>索引号：</td><td>014006438/2026-03652</td><td>公开时限：</td><td></td></tr>
        <tr><td>公开范围：</td><td>面向全社会</td><td>分类：</td><td>通知</td></tr>
        <tr><td>责任部门：</td><td>办公室</td><td>发文日期：</td><td>2026-01-02</td></tr>
        <tr><td>组配分类：</td><td>政策文件</td><td>文号：</td><td></td></tr></table>"""
    record = parse_article(page(block), URL)
    assert (record.topic, record.publisher, record.written_date, record.doc_no) == (
        "通知",
        "办公室",
        "2026-01-02",
        None,
    )


@pytest.mark.parametrize("placeholder", ["本站", "本网", "本网站"])
def test_this_site_is_no_publisher(placeholder):
    """`来源：本站` (and a <meta ContentSource> saying so) names the website, not the organ that published."""
    html = (
        f"<html><head><meta name='ContentSource' content='{placeholder}'></head><body>"
        f"<h1>标题</h1><p>发布时间：2011-11-24　来源：{placeholder}</p><div id='zoom'><p>正文。</p></div></body></html>"
    )
    record = parse_article(html.encode(), URL)
    assert record.publisher is None and record.publish_date == "2011-11-24"
    named = html.replace(f"来源：{placeholder}", "来源：平潭县卫生局")
    assert parse_article(named.encode(), URL).publisher == "平潭县卫生局"  # a named source still counts


def test_a_bylines_bare_date_is_the_publish_date_before_the_meta():
    """Gansu: <meta PubDate> is the page's generation time; the byline `日期：… 来源：` shows the publication."""
    html = (
        "<html><head><meta name='PubDate' content='2025-03-27 09:36:38'></head><body><h1>标题</h1>"
        "<p>日期：2025-02-26 11:54 来源：</p><div id='zoom'><p>正文。</p></div></body></html>"
    )
    record = parse_article(html.encode(), URL)
    assert record.publish_date == "2025-02-26" and record.explain["publish_date"] == "label 日期 (inline text line)"
    labelled = html.replace("<p>日期：", "<p>发布时间：2025-02-27 日期：")
    assert parse_article(labelled.encode(), URL).publish_date == "2025-02-27"  # a publish label still wins
    listing = "<table><tr><td>名称：</td><td>甲</td><td>日期：</td><td>2025-01-01</td></tr></table>"
    assert not parse_article(page(listing), URL).has_metadata  # 日期 with 名称 makes no block
