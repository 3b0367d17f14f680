"""The family adapters' page readers on the shapes the field guide records beyond what the simulators serve."""

from __future__ import annotations

import pytest

from scraper.portals.base import ListError, epoch_date, list_meta
from scraper.portals.generic import guess_selectors, parse_page
from scraper.portals.gkmlpt import Gkmlpt, leaves, split_column
from scraper.portals.gkmlpt import to_item as gkml_item
from scraper.portals.govcn import Govcn, listing
from scraper.portals.govcn import to_item as gov_item
from scraper.portals.hanweb_jpaas import find_units, parse_unit
from scraper.portals.hanweb_xxgk import HanwebXxgk, form_of, parse_rows
from scraper.portals.trs_static import TrsStatic, folder_of, paging, parse_list


def test_govcn_hosts_queries_and_answers():
    assert Govcn.hosts("https://sousuo.www.gov.cn/zcwjk/policyDocumentLibrary?t=zhengcelibrary_gw") == {"www.gov.cn"}
    assert Govcn.hosts("https://www.ndrc.gov.cn/") == set()
    lib = Govcn("https://sousuo.www.gov.cn/zcwjk/policyDocumentLibrary?t=zhengcelibrary_bm&q=", None)
    api, query = lib.api_query()
    assert api == "https://sousuo.www.gov.cn/search-gov/data" and query["t"] == "zhengcelibrary_bm"
    assert query["sort"] == "pubtime" and query["type"] == "gwyzcwjk"
    direct = Govcn("http://sousuo.gov.cn/search-gov/data?t=zhengcelibrary&n=5&sort=pubtime", None)
    assert direct.api_query()[1]["n"] == "5" and direct.api_query()[1]["t"] == "zhengcelibrary"
    every = {
        "code": 200,
        "searchVO": {
            "catMap": {"gongwen": {"listVO": [{"url": "/a.htm"}]}, "bumenfile": {"listVO": [{"url": "/b.htm"}]}},
            "totalpage": 3,
        },
    }
    assert [r["url"] for r in listing(every, "u")[0]] == ["/a.htm", "/b.htm"] and listing(every, "u")[1] == 3
    assert listing({"code": 1001, "msg": "抱歉，没有找到相关结果", "data": [], "searchVO": None}, "u") == (
        [],
        None,
        None,
    )
    with pytest.raises(ListError, match="code 500"):
        listing({"code": 500, "msg": "busy", "searchVO": None}, "u")
    item = gov_item(
        {
            "title": "关于<em>防汛</em>的通知",
            "url": "https://www.gov.cn/zhengce/content/202503/content_7012345.htm",
            "pcode": "国办发〔2025〕5号",
            "puborg": "国务院办公厅",
            "pubtime": 1741161600000,
            "pubtimeStr": None,
            "childtype": "综合政务",
            "index": "000014349/2025-00012",
        },
        "https://sousuo.www.gov.cn/x",
    )
    assert item.title == "关于防汛的通知" and item.date == "2025-03-05"
    assert item.meta == {
        "index_no": "000014349/2025-00012",
        "doc_no": "国办发〔2025〕5号",
        "publisher": "国务院办公厅",
        "publish_date": "2025-03-05",
        "topic": "综合政务",
    }


def test_gkmlpt_columns_trees_and_articles():
    assert split_column("http://www.dg.gov.cn/dghlz/gkmlpt/index#2972") == ("http://www.dg.gov.cn/dghlz", "2972", None)
    assert split_column("http://jr.sz.gov.cn/gkmlpt/api/all/2811?page=1&sid=755031") == (
        "http://jr.sz.gov.cn",
        "2811",
        "755031",
    )
    assert split_column("http://www.szpsq.gov.cn/gkmlpt/index") == ("http://www.szpsq.gov.cn", None, None)
    tree = [
        {
            "id": 1,
            "children": [
                {"id": 2, "children": []},
                {"id": 3, "jump_url": "http://x/"},
                {"id": 4, "children": [{"id": 5}]},
            ],
        },
        {"id": 6},
    ]
    assert leaves(tree) == ["2", "5", "6"]
    assert Gkmlpt.sniff("http://a/gkmlpt/index#5", "<script>window._CONFIG = {SID:'2', TREE:[]}</script>")["sid"] == "2"
    jump = {"type": "url", "url": "http://elsewhere/", "title": "外链"}
    assert gkml_item(jump, "http://a/gkmlpt/api/all/5") is None
    art = gkml_item(
        {
            "id": 9103540,
            "title": " 通知 ",
            "url": "//www.szpsq.gov.cn/gkmlpt/content/9/9103/post_9103540.html",
            "identifier": "114403006955506492/2021-00426",
            "document_number": "",
            "publisher": "坪山区",
            "date": 1630512000,
            "display_publish_time": 1630598400,
        },
        "http://www.szpsq.gov.cn/gkmlpt/api/all/5",
    )
    assert art.url == "http://www.szpsq.gov.cn/gkmlpt/content/9/9103/post_9103540.html" and art.title == "通知"
    assert art.date == "2021-09-03" and art.meta["written_date"] == "2021-09-02" and "doc_no" not in art.meta


def test_trs_paging_variants_and_rows():
    assert paging('createPageHTML(50, 1, "index", "htm");', "http://mof/x/") == (50, "index", "htm")
    assert paging("createPage(7, 0, 'index', 'shtml')", "http://cq/x/") == (7, "index", "shtml")
    assert paging("var countPage = 12//共多少页", "http://h/a/index.shtml") == (12, "index", "shtml")
    assert paging("<p>none</p>", "http://h/a/") is None
    assert folder_of("http://h/a/b/") == "http://h/a/b/" and folder_of("http://h/a/b/index.html") == "http://h/a/b/"
    table = """<table><tr><td><a href="./202601/t20260105_1.html" title="关于2026年3月1日起执行的通知">关于…</a></td>
      <td>2026-01-05</td></tr><tr><td><a href="../other/202601/t20260104_2.html">别的栏目</a></td><td>2026-01-04</td></tr>
      <tr><td><a href="./202601/t20260103_3.html">无日期</a></td></tr></table>"""
    rows = parse_list(table, "http://h/a/b/index.html", "http://h/a/b/")
    assert [(r.url, r.title, r.date) for r in rows] == [
        ("http://h/a/b/202601/t20260105_1.html", "关于2026年3月1日起执行的通知", "2026-01-05"),
        ("http://h/a/b/202601/t20260103_3.html", "无日期", None),
    ]
    assert TrsStatic.sniff("http://h/a/b/index.html", table) is None  # two rows: not enough to call it TRS


def test_xxgk_forms_and_rows():
    path, params = form_of("/module/xxgk/search.jsp?infotypeId=B001&amp;area=014500858&amp;divid=div435")
    assert path == "/module/xxgk/search.jsp" and params == {
        "infotypeId": "B001",
        "area": "014500858",
        "divid": "div435",
    }
    jiangxi = """<table><tr class="tr_main_value_odd"><td><a href="/art/2020/1/2/art_5_6.html" syh="014500858/2020-00012"
      mc="江西省人民政府关于…的通知" rq="2020-01-02">江西省…</a></td></tr>
      <tr><td><a href="javascript:goPage(2)">下一页</a></td></tr></table>"""
    rows = parse_rows(jiangxi, "http://www.jiangxi.gov.cn/col/col435/index.html")
    assert len(rows) == 1 and rows[0].url == "http://www.jiangxi.gov.cn/art/2020/1/2/art_5_6.html"
    assert rows[0].meta == {"index_no": "014500858/2020-00012", "publish_date": "2020-01-02"}
    assert HanwebXxgk.sniff("u", "<script src='/module/web/jpage/dataproxy.jsp'></script>/module/xxgk/") is None
    tree_only = "<iframe src='/module/xxgk/tree.jsp?divid=div1&amp;area=113&amp;standardXxgk=1'></iframe>"
    assert HanwebXxgk.sniff("u", tree_only) == {"tree": "/module/xxgk/tree.jsp", "area": "113", "divid": "div1"}


def test_jpaas_units_and_answers():
    page = """<script id="a" src="/cms_files/default/script/AuthorizedRead/unitbuild.js" url='/api/unit'
      queryData="{&quot;webId&quot;:&quot;8f43&quot;,&quot;pageId&quot;:&quot;b59&quot;}"></script>"""
    assert find_units(page) == [("/api/unit", {"webId": "8f43", "pageId": "b59"})]
    with pytest.raises(ListError) as exc:
        parse_unit({"success": False, "message": "页面不存在"}, "u")
    assert exc.value.layout and "页面不存在" in exc.value.reason


def test_generic_guesses_a_table_list_and_a_plain_next_link():
    page = (
        """<html><body><ul class="nav"><li><a href="/">首页</a></li><li><a href="/a">政务公开</a></li>
      <li><a href="/b">互动交流</a></li></ul><table id="list"><tbody>"""
        + "".join(
            f'<tr><td><a href="/doc/{i}.html">关于第{i}批项目的公示公告</a></td><td>2025-0{i}-01</td></tr>'
            for i in range(1, 6)
        )
        + """</tbody></table><div class="pager"><a href="list_2.html">下一页</a></div></body></html>"""
    )
    sel = guess_selectors(page)
    assert sel["item"] == "table#list > tbody > tr" and "date" in sel
    items, nxt = parse_page(page, "http://h/x/list.html", sel)
    assert [i.date for i in items] == [f"2025-0{i}-01" for i in range(1, 6)] and nxt == "http://h/x/list_2.html"
    assert guess_selectors("<ul class='nav'><li><a href='/'>首页</a></li></ul>") is None


def test_list_values_and_timestamps():
    assert list_meta(index_no=" 1/2025-1 ", doc_no="", publisher=None) == {"index_no": "1/2025-1"}
    with pytest.raises(ValueError):
        list_meta(author="x")
    assert epoch_date(1741161600) == epoch_date(1741161600000) == "2025-03-05"
    assert epoch_date(0) is None and epoch_date("x") is None


def test_each_family_is_named_as_its_module():
    """Config validation knows the families by module name (scraper/portal_names.py), without importing them."""
    from scraper.portal_names import family_names
    from scraper.portals import FAMILIES

    assert family_names() == tuple(FAMILIES)
    for name, cls in FAMILIES.items():
        assert cls.__module__ == "scraper.portals." + name.replace("-", "_")
