"""Each family's simulated portal over real HTTP: the request/response shapes and quirks of the field
guide (§1.2–§1.8), served attachments matching the ground truth, and columns placed at real paths."""

import hashlib
import json
import re

import httpx
import pytest

from simulator import PortalSimulator
from simulator.families import FAMILIES

CLIENT = httpx.Client(timeout=10)


@pytest.fixture(scope="module")
def sims():
    started = {f: PortalSimulator(seed=3, docs=60, family=f).start() for f in FAMILIES}
    yield started
    for sim in started.values():
        sim.stop()


def get(sim, path, **kw) -> httpx.Response:
    return CLIENT.get(sim.base_url + path if path.startswith("/") else path, **kw)


def post(sim, path, **kw) -> httpx.Response:
    return CLIENT.post(sim.base_url + path, **kw)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_document_and_file_is_served_as_the_truth_says(sims, family):
    sim = sims[family]
    for day in (1, 2):
        sim.set_day(day)
        docs = sim.expected_documents()
        assert docs and len({d["urls"][0] for d in docs}) == len(docs)
        for doc in docs:
            for url in doc["urls"]:
                page = get(sim, url)
                assert page.status_code == 200
                text = page.content.decode("utf-8" if doc["encoding"] == "utf-8" else "gb18030")
                assert doc["title"].replace("“", "")[:10] in text.replace("“", "").replace("&quot;", "")
            for att in doc["attachments"]:
                data = get(sim, att["url"]).content
                assert hashlib.sha256(data).hexdigest() == att["sha256"] and len(data) == att["size"]
    sim.set_day(1)
    assert any(a["name"].startswith("../") for d in sim.expected_documents() for a in d["attachments"])


def test_xxgk_search_needs_ajax_header_pages_and_carries_list_metadata(sims):
    sim = sims["hanweb-xxgk"]
    column = get(sim, sim.column_urls[0]).text
    call = re.search(r"loadDynamic\('(/module/xxgk/search\.jsp\?[^']+)'", column)[1]
    assert "infotypeId=B001A012" in call and "area=113308245972094984" in call and "dataproxy" not in column
    assert get(sim, sim.column_urls[-1]).text.count("loadDynamic") == 0  # the tree-only column
    tree = get(sim, re.search(r'src="(/module/xxgk/tree\.jsp[^"]+)"', column)[1]).text
    assert re.findall(r"funclick\('(\w+)'", tree)[:3] == ["B001A012", "B001G001", "B001C003"]
    form = {"infotypeId": "B001A012", "area": "113308245972094984", "currpage": "1"}
    assert post(sim, "/module/xxgk/search.jsp", data=form).status_code == 403
    ajax = {"X-Requested-With": "XMLHttpRequest"}
    first = post(sim, "/module/xxgk/search.jsp", data=form, headers=ajax).text
    links = re.findall(r'<a href="([^"]+)" target="_blank" mc="([^"]*)" wh="([^"]*)" rq="([^"]*)" syh="([^"]*)"', first)
    assert len(links) == 15 and "共" in first and "页" in first
    pages = int(re.search(r"共(\d+)页", first)[1])
    past = post(sim, "/module/xxgk/search.jsp", data={**form, "currpage": str(pages + 1)}, headers=ajax)
    assert ' mc="' not in past.text
    truth = {u: d for d in sim.expected_documents() for u in d["urls"]}
    for href, mc, wh, rq, syh in links:
        doc = truth[href]
        assert (mc, wh or None, rq, syh or None) == (doc["title"], doc["doc_no"], doc["publish_date"], doc["index_no"])


def test_jpaas_pages_only_through_param_json(sims):
    sim = sims["hanweb-jpaas"]
    shell = get(sim, sim.column_urls[0]).text
    script = re.search(r'<script id="\w+" src="[^"]*unitbuild\.js[^"]*"[^>]*url="([^"]+)" queryData="([^"]+)"', shell)
    query = dict(re.findall(r"'(\w+)':'([^']*)'", script[2]))
    assert script[1] == "/api-gateway/jpaas-publish-server/front/page/build/unit" and query["pageId"] in shell

    def unit(**extra):
        return get(sim, script[1], params={**query, **extra}).json()["data"]["html"]

    one = unit()
    assert unit(pageNo=2) == one and unit(page=2) == one and unit(currentPage=2) == one
    two = unit(paramJson=json.dumps({"pageNo": 2, "pageSize": "15"}))
    assert two != one
    count = int(re.search(r'count="(\d+)"', one)[1])
    assert 'rows="15"' in one and count == len([d for d in sim.site.column_docs(int(query["pageId"]))])
    titles = re.findall(r'<a class="bt-left" title="([^"]+)" href="([^"]+)"[^>]*>([^<]+)</a>', one + two)
    assert any(t.endswith("...") and not full.endswith("...") for full, _, t in titles)
    assert any(h.startswith("//") for _, h, _ in titles) and any("/art/" in h and "/col/col" in h for _, h, _ in titles)


def test_trs_index_pages_and_404_past_the_end(sims):
    sim = sims["trs-static"]
    for url in sim.column_urls:
        first = get(sim, url).text
        m = re.search(r'createPageHTML\((\d+), 0, "index", "(\w+)"\)', first) or re.search(
            r"var countPage = (\d+)", first
        )
        pages = int(m[1])
        ext = url.rsplit(".", 1)[1]
        assert get(sim, url.replace(f"index.{ext}", f"index_{pages - 1}.{ext}")).status_code == (
            200 if pages > 1 else 404
        )
        assert get(sim, url.replace(f"index.{ext}", f"index_{pages}.{ext}")).status_code == 404
        assert get(sim, url.rsplit("/", 1)[0] + "/").text == first
        assert re.search(rf'href="\./\d{{6}}/t\d{{8}}_\d+\.{ext}"', first)
    assert "../../jd/jd/" in get(sim, sim.column_urls[0]).text


def test_govcn_library_needs_a_referer_and_ends_with_code_1001(sims):
    sim = sims["govcn"]
    assert "search-gov/data" in get(sim, sim.column_urls[0]).text
    params = {"t": "zhengcelibrary_gw", "p": 1, "n": 10}
    assert get(sim, "/search-gov/data", params=params).status_code == 403
    ref = {"Referer": sim.column_urls[0]}
    data = get(sim, "/search-gov/data", params=params, headers=ref).json()
    vo = data["searchVO"]
    assert data["code"] == 200 and len(vo["listVO"]) == 10 and vo["totalpage"] == -(-vo["totalCount"] // 10)
    item = vo["listVO"][0]
    assert {"title", "url", "pcode", "puborg", "pubtime", "pubtimeStr", "childtype", "index", "id"} <= set(item)
    past = get(sim, "/search-gov/data", params={**params, "p": vo["totalpage"] + 1}, headers=ref).json()
    assert past == {"code": 1001, "msg": "抱歉，没有找到相关结果", "data": [], "searchVO": None}
    truth = {d["urls"][0]: d for d in sim.expected_documents()}
    b = [d for d in truth.values() if not d["fields"]]
    assert b and all("/zhengce/content/" not in d["urls"][0] and d["index_no"] for d in b if d["index_no"])


def test_gkmlpt_page_zero_is_page_one_and_100_a_page(sims):
    sim = sims["gkmlpt"]
    index = get(sim, "/gkmlpt/index").text
    sid = re.search(r"SID:'(\d+)'", index)[1]
    tree = json.loads(re.search(r"TREE:(\[.*?\]), SERVICE_AREA_ID", index)[1])
    assert [c["id"] for c in tree[0]["children"] if not c["jump_url"]] == [20765, 20766, 20767]
    with PortalSimulator(seed=3, docs=260, family="gkmlpt") as big:
        api = "/gkmlpt/api/all/20766"
        p0, p1, p2 = (get(big, api, params={"page": p, "sid": sid}).json() for p in (0, 1, 2))
        assert p0 == p1 and len(p1["articles"]) == 100 and p2["articles"] != p1["articles"]
        assert p1["classify"]["post_count"] == p1["total"] and p1["articles"][0]["type"] == "url"
        assert get(big, api, params={"page": 1, "sid": "1"}).json()["articles"] == []


def test_generic_site_pages_by_next_links(sims):
    sim = sims["generic"]
    first = get(sim, sim.column_urls[0]).text
    assert '<ul class="news-list">' in first and 'class="next" href="list2.htm"' in first


@pytest.mark.parametrize(
    "family,path",
    [
        ("hanweb-jpage", "/col/col1229402456/index.html"),
        ("hanweb-jpaas", "/col/col1229565788/index.html"),
        ("hanweb-xxgk", "/col/col51332/index.html"),
        ("trs-static", "/xxgk/zcfb/tz/"),
        ("govcn", "/zcwjk/policyDocumentLibrary?t=zhengcelibrary_bm&q="),
        ("gkmlpt", "/dghlz/gkmlpt/index#2972"),
        ("generic", "/zhengce/zhengceku/bmwj/"),
    ],
)
def test_columns_at_real_paths(family, path):
    with PortalSimulator(seed=1, docs=20, family=family, columns=[path]) as sim:
        url = sim.column_urls[0]
        assert url.split("#")[0].startswith(sim.base_url + path.split("#")[0].rstrip("/"))
        assert get(sim, url.split("#")[0]).status_code == 200
        assert all(get(sim, u).status_code == 200 for d in sim.expected_documents()[:3] for u in d["urls"])
    with pytest.raises(ValueError):
        PortalSimulator(family=family, columns=["/no/such/shape.php"])
