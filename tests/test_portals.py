"""The hanweb-jpage adapter on the saved real column page and over real HTTP."""

from __future__ import annotations

import asyncio

from samples import sample

from scraper.fetch import Fetcher, FetchPolicy
from scraper.portals import FAMILIES, ListItem, ListProblem, detect
from scraper.portals.hanweb_jpage import HanwebJpage, check_datastore, find_units, js_object, parse_records

JS_COLUMN = sample("hanweb-jcms_js-fzggw_column_datastore-jpage.html")


def test_units_are_read_off_the_real_jiangsu_column_page():
    html = JS_COLUMN.read_text("utf-8")
    units = find_units(html)
    assert [u.unit_id for u in units] == ["423656", "427101"]  # PC unit first, then the mobile one
    pc = units[0]
    assert (pc.total, pc.per_page, pc.group_size, pc.mini) == (138, 10, 3, False)
    assert pc.proxy_url == "/module/web/jpage/dataproxy.jsp"
    assert pc.params == {
        "col": "1",
        "appid": "1",
        "webid": "3",
        "path": "/",
        "columnid": "284",
        "sourceContentType": "1",
        "unitid": "423656",
        "webname": "江苏省发展和改革委员会",
        "permissiontype": "0",
    }
    assert detect("http://fzggw.jiangsu.gov.cn/col/col284/index.html", html).portal is HanwebJpage


def test_records_of_the_real_page():
    html = JS_COLUMN.read_text("utf-8")
    start = html.index('<div id="423656">')
    items = parse_records(html[start : html.index("</datastore>", start)])
    assert len(items) == 30
    assert items[0] == ListItem(
        url="/art/2026/8/28/art_284_11821965.html", title="江苏省成品油价格调整公告（2026年第16号）", date="2026-08-28"
    )
    assert all(i.url.startswith("/art/") and i.date and i.title for i in items)


def test_js_object_literals():
    assert js_object("{col:1,appid:'1',webname:'a,b',x:\"q\"}") == {
        "col": "1",
        "appid": "1",
        "webname": "a,b",
        "x": "q",
    }


def test_malformed_datastore_is_refused():
    for bad in ("<datastore><recordset><record><![CDATA[<li>x", "<html>nope</html>"):
        try:
            check_datastore(bad, "u")
        except Exception as exc:
            assert "malformed dataproxy XML" in str(exc)
        else:
            raise AssertionError("accepted " + bad)


def walk(portal, url, **kw):
    async def go():
        async with Fetcher(FetchPolicy(user_agent="t", rate=0, concurrency=4)) as f:
            p = HanwebJpage(url, f.fetch, **kw)
            return [i async for i in p.items()], f.requests

    return asyncio.run(go())


def test_walks_a_whole_column_from_its_url_alone(portal):
    items, requests = walk(portal, portal.column_urls[2])
    expected = {u for e in portal.expected_documents() for u in e["urls"] if "/art_1229402493_" in u}
    urls = [i.url for i in items if isinstance(i, ListItem)]
    assert len(urls) == len(set(urls)) and set(urls) == expected
    dataproxy = [r for r in portal.requests if "dataproxy" in r.path]
    assert dataproxy and all(r.method == "POST" and "columnid=1229402493" in r.body.decode() for r in dataproxy)


def test_max_pages_and_problems(portal):
    items, _ = walk(portal, portal.column_urls[2], max_pages=1)
    assert len(items) == 45  # only the embedded group
    items, _ = walk(portal, portal.column_urls[0].replace("index.html", "nope.html"))
    assert isinstance(items[0], ListProblem) and "HTTP 404" in items[0].reason


def test_registry():
    assert "hanweb-jpage" in FAMILIES


def test_a_server_that_ignores_startrecord_is_paged_by_page_number(portal):
    portal.inject(r"dataproxy", "ignore-startrecord")
    items, _ = walk(portal, portal.column_urls[2])
    expected = {u for e in portal.expected_documents() for u in e["urls"] if "/art_1229402493_" in u}
    assert {i.url for i in items if isinstance(i, ListItem)} == expected
    assert any("page=" in r.query for r in portal.requests if "dataproxy" in r.path)
