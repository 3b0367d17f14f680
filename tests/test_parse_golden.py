"""Golden fixtures (juriscraper style): every saved real page -> its expected output, one test walks them all.

Article pages give the parser's record; column and list pages give the family detection names, the
parameters it found and the list items the family's adapter reads off them (absolute URLs, titles,
dates, list metadata). Samples live in tests/examples (see SOURCES.md there).
Regenerate with `UPDATE_GOLDEN=1 pytest tests/test_parse_golden.py`, then check every changed value
against the page by hand before committing.
"""

import dataclasses
import json
import os
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
from example_pages import examples
from samples import sample as sample_file
from samples import saved_pages

from scraper.parse import parse_article
from scraper.portals import detect
from scraper.portals.hanweb_jpaas import find_units as jpaas_units
from scraper.portals.hanweb_jpaas import parse_unit
from scraper.portals.hanweb_jpage import embedded_items, find_units
from scraper.portals.trs_static import folder_of, paging, parse_list

GOLDEN = Path(__file__).resolve().parent / "golden"
UNIT_API = (
    "https://fzggw.zj.gov.cn/api-gateway/jpaas-publish-server/front/page/build/unit?parseType=bulidstatic"
    "&webId=3185&tplSetId=o0YcVHHq5vWtr3uiCp4SY&pageType=column&tagId=信息列表&editType=null&pageId=1229565788"
)

# sample file -> (the URL it was saved from (see SOURCES.md), what it is)
PAGES = {
    "hanweb-jcms_js-fzggw_article_template-markers.html": (
        "http://fzggw.jiangsu.gov.cn/art/2026/8/28/art_284_11821965.html",
        "article",
    ),
    "hanweb-jpaas_zj-fzggw_article_xxgk-meta.html": (
        "https://fzggw.zj.gov.cn/col/col1229123351/art/2026/art_937add6719f140bdac86d5b97c525d28.html",
        "article",
    ),
    "trs-wcm_ndrc_article_attachments.html": (
        "https://www.ndrc.gov.cn/xxgk/zcfb/tz/202608/t20260828_1407232.html",
        "article",
    ),
    "hanweb-jcms_js-fzggw_column_datastore-jpage.html": ("http://fzggw.jiangsu.gov.cn/col/col284/index.html", "column"),
    "hanweb-jpaas_zj-fzggw_column-shell_unitbuild.html": (
        "https://fzggw.zj.gov.cn/col/col1229565788/index.html",
        "column",
    ),
    "hanweb-jpaas_zj-fzggw_unit-api_response.json": (UNIT_API, "jpaas-unit"),
    "trs-wcm_ndrc_column-list_createPageHTML.html": ("https://www.ndrc.gov.cn/xxgk/zcfb/tz/index.html", "column"),
}


def items_of(html: str, url: str, family: str) -> dict:
    """What the family's adapter reads off a column page without further requests."""
    if family == "hanweb-jpage":
        unit = find_units(html)[0]
        return {"items": embedded_items(html, unit, url)}
    if family == "hanweb-jpaas":
        return {"units": [{"url": api, "query": query} for api, query in jpaas_units(html)]}
    if family == "trs-static":
        return {"paging": list(paging(html, url)), "items": parse_list(html, url, folder_of(url))}
    raise AssertionError(family)


def read(sample: str) -> dict:
    path = sample_file(sample)
    url, kind = PAGES[sample]
    if kind == "article":
        return parse_article(path.read_bytes(), url, "text/html").to_dict()
    text = path.read_text("utf-8")
    if kind == "jpaas-unit":
        items, count, rows = parse_unit(json.loads(text), url)
        out = {"count": count, "rows": rows, "items": [dataclasses.replace(i, url=urljoin(url, i.url)) for i in items]}
    else:
        found = detect(url, text)
        out = {"family": found.family, "params": found.params, **items_of(text, url, found.family)}
    return json.loads(json.dumps(out, default=dataclasses.asdict, ensure_ascii=False))


def _golden_path(sample: str) -> Path:
    return GOLDEN / f"{Path(sample).stem}.json"


if os.environ.get("UPDATE_GOLDEN"):
    GOLDEN.mkdir(exist_ok=True)
    for _sample in PAGES:
        _golden_path(_sample).write_text(json.dumps(read(_sample), ensure_ascii=False, indent=2) + "\n", "utf-8")


def test_every_sample_has_a_golden_file():
    assert sorted(p.name for p in GOLDEN.glob("*.json")) == sorted(_golden_path(s).name for s in PAGES)
    with_expected = {e.html.name for e in examples()}
    assert set(PAGES) <= saved_pages()
    assert not saved_pages() - set(PAGES) - with_expected, "a saved page with neither a golden entry (PAGES) nor a JSON"


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_golden(golden):
    sample = next(s for s in PAGES if _golden_path(s) == golden)
    started = time.perf_counter()
    actual = read(sample)
    print(f"{sample}: read in {(time.perf_counter() - started) * 1000:.2f} ms")
    assert actual == json.loads(golden.read_text(encoding="utf-8"))
