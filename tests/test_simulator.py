"""The portal simulator over real HTTP: list pages, dataproxy, article pages, encodings,
ground truth, days, determinism and faults."""

import json
import re
import time
from urllib.parse import unquote

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser

from simulator import PortalSimulator, valid_org_code, valid_uscc
from simulator.site import COLUMNS

SEED_INDEX_NO = "113308245972094984/2025-01529"
PROXY = "/module/web/jpage/dataproxy.jsp"
COL = COLUMNS[2]  # the largest column
WS = re.compile(r"[\s\u00a0\u3000]+")
VOLATILE = re.compile(rb"pageTimestamp= '\d+'|<span id=\"artcount\">\d+</span>")


@pytest.fixture(scope="module")
def sim():
    with PortalSimulator(seed=0, docs=120) as s:
        yield s


@pytest.fixture(scope="module")
def client(sim):
    with httpx.Client(base_url=sim.base_url, timeout=10) as c:
        yield c


@pytest.fixture(autouse=True)
def _clean(sim):
    yield
    sim.clear_faults()
    sim.set_day(1)
    sim.robots = "allow"


def records(xml: str) -> list[str]:
    return re.findall(r'href=["\'](/art/[^"\']+)["\']', xml)


def in_column(doc, col=COL) -> str:
    return next(p for p in doc.url_paths() if f"/art_{col.id}_" in p)


def decoded(resp: httpx.Response, encoding: str) -> str:
    return resp.content.decode("utf-8" if encoding == "utf-8" else "gb18030")


APPS = re.compile(r'\{name:("(?:[^"\\]|\\.)*"), url:("(?:[^"\\]|\\.)*")\}')


def extract(html: str) -> dict:
    """A small independent reading of an article page, to check the ground truth against."""
    tree = LexborHTMLParser(html)
    fields = {}
    table = tree.css_first("table.xxgk_table, table.xxgktab")
    for tr in table.css("tr") if table else []:
        cells = [c for c in tr.iter() if c.tag in ("td", "th")]
        for label, value in zip(cells[::2], cells[1::2]):
            if WS.sub("", label.text()).rstrip("：:"):
                fields[WS.sub("", label.text()).rstrip("：:")] = value.text().strip(" \r\n\t\u00a0\u3000")
    title = re.search(r"<!--<\$\[标题名称\(html\)\]>begin-->(.*?)<!--", html)[1]
    zoom = tree.css_first("#zoom")
    lines = []
    for node in zoom.iter():
        if node.tag == "p" and node.text().strip(" \r\n\t\u00a0\u3000"):
            lines.append(node.text().strip(" \r\n\t\u00a0\u3000"))
        elif node.tag == "table":
            lines += [" ".join(td.text().strip() for td in tr.css("td")) for tr in node.css("tr")]
    atts = [
        (a.attributes.get("download") or a.text(), a.attributes["href"])
        for a in zoom.css("a") + tree.css("div.xxgk-art-fj a")
    ]  # in the body, or a 相关附件 block
    atts += [(json.loads(name), json.loads(url)) for name, url in APPS.findall(html)]  # or a script array
    return {"fields": fields, "title": LexborHTMLParser(title).text(), "body_text": "\n".join(lines), "atts": atts}


# -- identifiers ---------------------------------------------------------------------------


def test_check_digits_known_codes():
    for code in ("113308245972094984", "11330000002482031M", "114403006955506492", "11120000MB1908811Q"):
        assert valid_uscc(code)
    for code in ("000014349", "01527918X", "000125014", "597209498"):
        assert valid_org_code(code)
    assert not valid_uscc("113308245972094985") and not valid_org_code("000014348")


def test_every_index_no_is_valid(sim):
    docs = sim.expected_documents(1) + sim.expected_documents(2)
    numbers = [d["index_no"] for d in docs if d["index_no"]]
    assert SEED_INDEX_NO in numbers
    for number in numbers:
        prefix, year_serial = number.split("/")
        assert valid_uscc(prefix) and prefix[2:8] == "330824"
        assert re.fullmatch(r"20\d\d-\d{5}", year_serial)
    assert len(set(d["index_no"] for d in sim.expected_documents(2) if d["index_no"])) == len(
        [d for d in sim.expected_documents(2) if d["index_no"]]
    )
    assert 0 < sum(1 for d in docs if d["index_no"] is None) < len(docs) * 0.1


# -- list pages ------------------------------------------------------------------------------


def test_column_page_structure(sim, client):
    resp = client.get(sim.column_urls[2])
    html = resp.text
    total = len(sim.site.column_docs(COL.id))
    assert total > 45
    assert f'<div id="{COL.pc_unit}"><script type="text/xml"><datastore>' in html
    assert "<meta name='WebId' content='3'>" in html and "/module/jslib/urite/urite.min.js" in html
    nextgroup = re.search(r'<nextgroup><!\[CDATA\[<a href="([^"]+)"></a>\]\]></nextgroup>', html)[1]
    assert nextgroup.startswith(f"{PROXY}?page=1&appid=1&appid=1&webid=3&path=/&columnid={COL.id}")
    webname = re.search(r"webname=([^&]+)", nextgroup)[1]
    assert webname.startswith("%25E5") and unquote(unquote(webname)) == "开化县人民政府"
    assert (
        f"var param_{COL.pc_unit} = {{col:1,appid:'1',webid:3,path:'/',columnid:{COL.id},sourceContentType:1,"
        f"unitid:'{COL.pc_unit}',webname:'开化县人民政府',permissiontype:0}};"
    ) in html
    assert f"function jpage_{COL.pc_unit}()" in html and "totalRecord:1000," in html
    assert f"$(function(){{$('#{COL.pc_unit}').jpage({{themeName:'default',showMode:'full',totalRecord:{total}," in html
    assert "groupSize:3,proxyUrl:'/module/web/jpage/dataproxy.jsp',perPage:15," in html
    assert f"$('#{COL.mobile_unit}').jpage({{themeName:'lucidity',showMode:'mini',totalRecord:{total}," in html
    pc, mobile = html.split(f'<div id="{COL.mobile_unit}">')
    assert records(pc) == records(mobile) and len(records(pc)) == 45
    assert "visit.jsp?type=2&i_webid=3&i_columnid=" in html
    assert b"\r\n" in resp.content and re.search(rb"[^\r]\n", resp.content)  # CRLF and LF mixed


def test_records_sorted_and_varied(sim, client):
    xml = client.get(
        PROXY, params={"startrecord": 1, "endrecord": 300, "perpage": 15, "columnid": COL.id, "unitid": COL.pc_unit}
    ).text
    dates = re.findall(r"<span[^>]*>(\d{4}-\d\d-\d\d)</span>", xml)
    assert dates == sorted(dates, reverse=True) and len(dates) == len(sim.site.column_docs(COL.id))
    assert "<a title='" in xml and '" title="' in xml and re.search(r'<a target="_blank" href="[^"]+">', xml)
    assert '<span class="bt-list-time">' in xml and "<span>" in xml


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_dataproxy_window_mode(sim, client, method):
    base = {
        "col": 1,
        "appid": 1,
        "webid": 3,
        "path": "/",
        "columnid": COL.id,
        "sourceContentType": 1,
        "unitid": COL.pc_unit,
        "webname": "开化县人民政府",
        "permissiontype": 0,
    }
    window = "startrecord=46&endrecord=90&perpage=15"
    if method == "GET":
        resp = client.get(f"{PROXY}?{window}&{httpx.QueryParams(base)}")
    else:
        resp = client.post(f"{PROXY}?{window}", data=base)
    assert resp.status_code == 200 and resp.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    total = len(sim.site.column_docs(COL.id))
    assert f"<totalrecord>{total}</totalrecord>" in resp.text and "<totalpage>" not in resp.text
    assert records(resp.text) == [in_column(d) for d in sim.site.column_docs(COL.id)[45:90]]


def test_dataproxy_page_mode_and_limits(sim, client):
    total = len(sim.site.column_docs(COL.id))
    resp = client.post(f"{PROXY}?page=2", data={"columnid": COL.id, "unitid": COL.mobile_unit})
    assert f"<totalpage>{-(-total // 45)}</totalpage>" in resp.text
    assert len(records(resp.text)) == min(45, total - 45)
    small = client.get(PROXY, params={"page": 3, "perpage": 10, "columnid": COL.id, "unitid": COL.pc_unit}).text
    assert records(small) == [in_column(d) for d in sim.site.column_docs(COL.id)[20:30]]
    capped = client.get(
        PROXY, params={"startrecord": 1, "endrecord": 5000, "perpage": 5000, "columnid": COL.id, "unitid": COL.pc_unit}
    ).text
    assert len(records(capped)) == min(300, total)
    past = client.get(PROXY, params={"page": 99, "columnid": COL.id, "unitid": COL.pc_unit}).text
    assert "<recordset></recordset>" in past and f"<totalrecord>{total}</totalrecord>" in past
    for params in ({"page": 1}, {"page": 1, "columnid": COL.id}, {"page": 1, "columnid": COL.id, "unitid": 1}):
        empty = client.get(PROXY, params=params)
        assert empty.status_code == 200 and "<recordset/>" in empty.text and "<totalrecord>0<" in empty.text
    assert client.get("/module/jpage/dataproxy.jsp", params={"page": 1, "columnid": COL.id}).status_code == 404


# -- article pages ---------------------------------------------------------------------------


def test_seed_document_page(sim, client):
    doc = next(d for d in sim.expected_documents() if d["index_no"] == SEED_INDEX_NO)
    assert doc["title"] == "开化县2024年法治政府建设年度报告" and doc["encoding"] == "utf-8"
    html = client.get(doc["urls"][0]).text
    rows = re.findall(r"<tr>(.*?)</tr>", html[html.index('class="xxgk_table"') : html.index("</table>")])
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r) for r in rows]
    assert cells == [
        ["索引号：", SEED_INDEX_NO, "公开方式：", "主动公开"],
        ["文号：", "", "公开日期：", "2025-03-05"],
        ["发布单位：", "县府办", "有效性：", ""],
    ]
    assert "<!--<$[标题名称(html)]>begin-->开化县2024年法治政府建设年度报告<!--<$[标题名称(html)]>end-->" in html
    assert '<!--<$[信息内容]>begin--><!--ZJEG_RSS.content.begin--><meta name="ContentStart">' in html
    assert '<meta name="ContentEnd"><!--ZJEG_RSS.content.end--><!--<$[信息内容]>end-->' in html
    for meta in (
        "SiteName",
        "SiteDomain",
        "SiteIDCode",
        "ColumnName",
        "ArticleTitle",
        "PubDate",
        "ContentSource",
        "Keywords",
        "Url",
    ):
        assert f'<meta name="{meta}"' in html
    assert "<meta name='Maketime'" in html
    assert doc["body_text"].startswith("2024年，开化县始终坚持以习近平新时代中国特色社会主义思想为指导")
    assert "\n一、主要做法及成效\n" in doc["body_text"] and "\n二、2025年工作思路\n" in doc["body_text"]
    assert extract(html)["body_text"] == doc["body_text"]
    assert doc["fields"] == {
        "索引号": SEED_INDEX_NO,
        "公开方式": "主动公开",
        "文号": "",
        "公开日期": "2025-03-05",
        "发布单位": "县府办",
        "有效性": "",
    }
    assert doc["doc_no"] is None and doc["validity"] is None and doc["publisher"] == "县府办"


def test_ground_truth_matches_pages(sim, client):
    """Every live document, every URL, both days: table, title, body and attachments."""
    for day in (1, 2):
        sim.set_day(day)
        for doc in sim.expected_documents():
            for url in doc["urls"]:
                resp = client.get(url)
                assert resp.status_code == 200
                got = extract(decoded(resp, doc["encoding"]))
                assert got["fields"] == doc["fields"] and got["title"] == doc["title"]
                assert got["body_text"] == doc["body_text"]
                assert got["atts"] == [(a["name"], a["url"][len(sim.base_url) :]) for a in doc["attachments"]]


def test_metadata_variants_present(sim, client):
    docs = sim.expected_documents()
    labels = {label for d in docs for label in d["fields"]}
    assert {
        "信息索引号",
        "发文字号",
        "文件编号",
        "发布日期",
        "发布机构",
        "发文机关",
        "效力状况",
        "成文日期",
        "主题分类",
        "体裁分类",
        "组配分类",
    } <= labels
    assert 0.15 < sum(1 for d in docs if d["genre"]) / len(docs) < 0.45
    pages = b"".join(client.get(d["urls"][0]).content for d in docs if d["encoding"] == "utf-8")
    for needle in (
        "<th>",
        "索 引 号",
        "有\u3000效\u3000性",
        "文&nbsp;&nbsp;&nbsp;&nbsp;号",
        'class="xxgktab"',
        '<table border="1"',
        "<td></td>",
        "号:</t",
        "号</t",
    ):
        assert needle.encode() in pages, needle


def test_gbk_pages(sim, client):
    corpus = sim.corpus.docs(1)
    styles = {d.encoding for d in corpus.values()}
    assert {"gbk-header", "gbk-meta", "gbk-none"} <= styles
    assert 0.1 < sum(1 for d in corpus.values() if d.encoding != "utf-8") / len(corpus) < 0.3
    for doc in corpus.values():
        if doc.encoding == "utf-8":
            continue
        resp = client.get(doc.url_paths()[0])
        ctype, head = resp.headers["content-type"], resp.content[:600]
        text = resp.content.decode("gb18030")
        assert doc.title in text
        if doc.encoding == "gbk-header":
            assert ctype == "text/html; charset=GBK" and b"charset" not in head
        elif doc.encoding == "gbk-meta":
            assert ctype == "text/html" and b'content="text/html; charset=gb2312"' in head
            assert re.search("[喆堃珺镕]", text)
            with pytest.raises(UnicodeDecodeError):
                resp.content.decode("gb2312")
        else:
            assert ctype == "text/html" and b"charset" not in head


def test_two_column_document(sim, client):
    doc = next(d for d in sim.expected_documents() if len(d["urls"]) == 2)
    assert doc["index_no"]
    a, b = (extract(decoded(client.get(u), doc["encoding"])) for u in doc["urls"])
    assert a == b
    ids = {re.search(r"art_(\d+)_(\d+)", u).groups() for u in doc["urls"]}
    assert len({c for c, _ in ids}) == 2 and len({i for _, i in ids}) == 1


def test_volatile_bytes_only_outside_content(sim, client):
    url = sim.expected_documents()[3]["urls"][0]
    one, two = client.get(url).content, client.get(url).content
    assert one != two and VOLATILE.sub(b"", one) == VOLATILE.sub(b"", two)


def test_attachments(sim, client):
    docs = [d for d in sim.expected_documents() if d["attachments"]]
    assert 0.15 < len(docs) / len(sim.expected_documents()) < 0.45
    magic = {"pdf": b"%PDF-1.4", "doc": b"\xd0\xcf\x11\xe0", "docx": b"PK\x03\x04", "zip": b"PK\x03\x04"}
    for att in [a for d in docs for a in d["attachments"]]:
        resp = client.get(att["url"])
        ext = att["url"].rsplit(".", 1)[1]
        assert resp.status_code == 200 and 2000 < len(resp.content) < 8000
        assert resp.content.startswith(magic.get(ext, b"")) and resp.headers["content-type"] != "text/html"
        assert client.get(att["url"]).content == resp.content
    assert client.get("/module/download/downfile.jsp?classid=0&filename=00.pdf").status_code == 404


# -- days --------------------------------------------------------------------------------------


def test_days():
    with PortalSimulator(seed=5, docs=200) as sim, httpx.Client(base_url=sim.base_url) as client:
        d1, d2, d3 = (sim.expected_documents(day) for day in (1, 2, 3))
        assert d2 == d3
        by1 = {d["urls"][0]: d for d in d1}
        by2 = {d["urls"][0]: d for d in d2}
        added = [d for d in d2 if d["added_on_day"] == 2]
        deleted = sim.deleted_documents(2)
        assert len(added) == 10 and len(deleted) == 6 and sim.deleted_documents(1) == []
        assert {d["urls"][0] for d in deleted} == set(by1) - set(by2)
        assert min(d["publish_date"] for d in added) > max(d["publish_date"] for d in d1)
        replaced = [d for d in d2 if d["attachment_replaced"]]
        assert len(replaced) == 4 and all(d["edited_on_day"] == 2 for d in replaced)
        for d in replaced:  # same URL and name, new bytes; text unchanged
            old = by1[d["urls"][0]]
            assert d["body_text"] == old["body_text"] and d["title"] == old["title"]
            assert [(a["name"], a["url"]) for a in d["attachments"]] == [
                (a["name"], a["url"]) for a in old["attachments"]
            ]
            assert d["attachments"][0]["sha256"] != old["attachments"][0]["sha256"]
        edited = [d for d in d2 if d["edited_on_day"] == 2 and not d["attachment_replaced"]]
        assert len(edited) == 12 and all(d["edited_on_day"] is None for d in d1)
        body_only = [d for d in edited if d["title"] == by1[d["urls"][0]]["title"]]
        assert len(body_only) == 6 and all(d["body_text"] != by1[d["urls"][0]]["body_text"] for d in body_only)
        for d in edited:
            if d not in body_only:
                old = by1[d["urls"][0]]
                assert d["title"].startswith(old["title"]) and d["body_text"] == old["body_text"]
        protected = [d for d in d2 if d["index_no"] == SEED_INDEX_NO or len(d["urls"]) == 2]
        assert len(protected) == 2 and all(by1[d["urls"][0]] == d for d in protected)
        # served: deleted URLs 404 from day 2; new docs top the lists; day 3 serves day 2
        sim.set_day(2)
        assert client.get(deleted[0]["urls"][0]).status_code == 404
        first = {
            c.id: client.get(f"{PROXY}?page=1", params={"columnid": c.id, "unitid": c.pc_unit}).text for c in COLUMNS
        }
        newest = [records(x)[0] for x in first.values()]
        assert any(sim.base_url + p in {u for d in added for u in d["urls"]} for p in newest)
        sim.set_day(3)
        assert all(
            client.get(PROXY, params={"page": 1, "columnid": c.id, "unitid": c.pc_unit}).text == first[c.id]
            for c in COLUMNS
        )
        sim.set_day(1)
        assert client.get(deleted[0]["urls"][0]).status_code == 200


# -- determinism -----------------------------------------------------------------------------------


def test_determinism_across_simulators():
    with (
        PortalSimulator(seed=7, docs=80) as a,
        PortalSimulator(seed=7, docs=80) as b,
        PortalSimulator(seed=8, docs=80) as c,
        httpx.Client() as client,
    ):
        paths = [u[len(a.base_url) :] for d in a.expected_documents() for u in d["urls"]][:20]
        got_a = [VOLATILE.sub(b"", client.get(a.base_url + p).content) for p in paths]
        got_b = [VOLATILE.sub(b"", client.get(b.base_url + p).content) for p in reversed(paths)][::-1]
        assert got_a == got_b
        for url_a, url_b, url_c in zip(a.column_urls, b.column_urls, c.column_urls):
            page_a = client.get(url_a).content
            assert page_a == client.get(url_b).content and page_a != client.get(url_c).content


# -- robots and faults ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode,status,text",
    [
        ("allow", 200, "Allow: /"),
        ("disallow-all", 200, "Disallow: /\n"),
        ("disallow-art", 200, "Disallow: /art/"),
        ("403", 403, ""),
        ("404", 404, ""),
    ],
)
def test_robots(sim, client, mode, status, text):
    sim.robots = mode
    resp = client.get("/robots.txt")
    assert resp.status_code == status and text in resp.text


def test_fault_status_and_rate(sim, client):
    url = sim.expected_documents()[0]["urls"][0]
    sim.inject(r"/art/", "status", code=429, retry_after=5)
    resp = client.get(url)
    assert resp.status_code == 429 and resp.headers["retry-after"] == "5"
    sim.clear_faults()
    sim.inject(r"/art/", "status", rate=0.5, code=503)
    codes = [client.get(url).status_code for _ in range(30)]
    assert 3 < codes.count(503) < 27 and set(codes) == {200, 503}
    sim.clear_faults()
    assert client.get(url).status_code == 200


def test_fault_malformed_binary_huge(sim, client):
    sim.inject(r"dataproxy", "malformed-xml")
    xml = client.get(PROXY, params={"page": 1, "columnid": COL.id, "unitid": COL.pc_unit}).text
    assert "</datastore>" not in xml and xml.count("<![CDATA[") > xml.count("]]>")
    url = sim.expected_documents()[0]["urls"][0]
    sim.inject(r"/art/", "binary")
    resp = client.get(url)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/octet-stream"
    sim.clear_faults()
    sim.inject(r"/col/", "huge", size=3_000_000)
    with client.stream("GET", sim.column_urls[0]) as resp:
        assert int(resp.headers["content-length"]) == 3_000_000
        assert sum(len(chunk) for chunk in resp.iter_bytes()) == 3_000_000


def test_fault_no_metadata(sim, client):
    url = sim.expected_documents()[0]["urls"][0]
    sim.inject(re.escape(url[len(sim.base_url) :]), "no-metadata")
    html = client.get(url).text
    assert "xxgk_table" not in html and "xxgktab" not in html and "标题名称(html)" in html


def test_fault_reset_truncate_delay(sim, client):
    url = sim.expected_documents()[1]["urls"][0]
    sim.inject(r"/art/", "reset")
    with pytest.raises(httpx.TransportError):
        client.get(url)
    sim.clear_faults()
    sim.inject(r"/art/", "truncate")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(url)
    sim.clear_faults()
    sim.inject(r"/art/", "delay", seconds=0.3)
    started = time.monotonic()
    assert client.get(url).status_code == 200 and time.monotonic() - started >= 0.3
    with pytest.raises(ValueError):
        sim.inject(r"/", "no-such-fault")


def test_request_log(sim, client):
    sim.reset_requests()
    client.post(f"{PROXY}?page=1", data={"columnid": COL.id, "unitid": COL.pc_unit}, headers={"X-Test": "1"})
    client.get("/nowhere")
    first, second = sim.requests
    assert (first.method, first.path, first.query, first.status) == ("POST", PROXY, "page=1", 200)
    assert f"columnid={COL.id}".encode() in first.body and first.headers["x-test"] == "1"
    assert first.headers["X-Test"] == "1" and second.status == 404 and first.time <= second.time
    sim.reset_requests()
    assert sim.requests == []


def test_a_full_organ_year_gets_six_digit_serials_instead_of_a_hang():
    """A corpus of 100,000 documents of one family can fill an organ's year of 5-digit serials: the
    next serial then has six digits (the generator used to loop for ever)."""
    import random

    from simulator.corpus import Corpus

    corpus = Corpus(seed=1, docs=5)
    organ = corpus.profile.organs[0]
    corpus._serials |= {f"{organ.uscc}/2031-{i:05d}" for i in range(1, 100000)}
    serial = corpus._serial(random.Random(3), organ, 2031)
    assert len(serial) == 6 and f"{organ.uscc}/2031-{serial}" in corpus._serials
