"""List-level metadata: kept with each URL, filling what a page leaves out (gov.cn pages without a table get
their 索引号 from the list), compared before fetching (a list that proves a document known and unchanged
saves the fetch; one that says otherwise does not), and found again by a reparse from the archive."""

from __future__ import annotations

import copy

import pytest
from helpers import Cli, db_of, write_config
from samples import sample
from sqlmodel import select

from scraper.parse import parse_article
from scraper.process import complete, content_hash, merge_listing, parse_capture
from simulator import PortalSimulator
from storage.archive import open_archive
from storage.db import open_database, read_session, session
from storage.models import Capture, DocumentUrl, DocumentVersion

RECORD = {
    "index_no": None,
    "title": "关于做好防汛工作的通知",
    "doc_no": "国办发〔2025〕5号",
    "publisher": None,
    "publish_date": "2025-03-05",
    "written_date": None,
    "topic": None,
    "genre": None,
    "warnings": [],
}


def test_the_list_fills_what_the_page_leaves_out_and_the_page_wins():
    record = copy.deepcopy(RECORD)
    meta = {
        "index_no": "０００014349／2025-00012",
        "doc_no": "国办发〔2025〕6号",
        "publisher": " 国务院办公厅 ",
        "publish_date": "2025年3月5日",
        "written_date": "2025-03-01",
    }
    assert merge_listing(record, "另一个标题", meta) == ["index_no", "publisher", "written_date"]
    assert record["index_no"] == "000014349/2025-00012" and record["publisher"] == "国务院办公厅"
    assert record["doc_no"] == "国办发〔2025〕5号" and record["title"] == "关于做好防汛工作的通知"
    assert record["warnings"] == ["the list gives doc_no '国办发〔2025〕6号', the page '国办发〔2025〕5号'"]
    assert record["from_list"] == ["index_no", "publisher", "written_date"]
    untitled = {**copy.deepcopy(RECORD), "title": None}
    assert merge_listing(untitled, "列表标题", {}) == ["title"] and untitled["title"] == "列表标题"


def test_the_content_hash_is_the_parsers_when_nothing_joins():
    art = parse_article(
        sample("hanweb-jpaas_zj-fzggw_article_xxgk-meta.html").read_bytes(),
        "https://fzggw.zj.gov.cn/col/col1229123351/art/2026/art_x.html",
        "text/html",
    )
    record = art.to_dict()
    body = record.pop("body_text")
    assert content_hash(record, body) == art.content_hash()
    record["attachments"][0].update(sha256="0" * 64, size=10)
    assert content_hash(record, body) != art.content_hash()


def crawl(tmp_path, sim) -> Cli:
    cli = Cli(write_config(tmp_path, sim, family=sim.family))
    assert cli.jsonl("crawl", "kaihua")[0]["status"] == "ok"
    return cli


@pytest.mark.usefixtures("db_url")  # on each database
def test_pages_without_a_table_take_the_lists_index_no(tmp_path):
    with PortalSimulator(seed=5, docs=30, family="govcn") as sim:
        crawl(tmp_path, sim)
        engine = open_database(db_of(tmp_path))
        with read_session(engine) as s:
            versions = s.exec(select(DocumentVersion)).all()
            from_list = [v.record for v in versions if "index_no" in v.record.get("from_list", [])]
            assert from_list and all(not r["fields"] and r["index_no"] for r in from_list)
            metas = [u.list_meta for u in s.exec(select(DocumentUrl))]
        assert all(m.get("publisher") and m.get("publish_date") for m in metas)


@pytest.mark.usefixtures("db_url")  # on each database
def test_a_reparse_from_the_archive_reaches_the_same_record(tmp_path):
    with PortalSimulator(seed=5, docs=30, family="govcn") as sim:
        crawl(tmp_path, sim)
        engine = open_database(db_of(tmp_path))
        store = open_archive(f"file://{tmp_path}/data/archive")
        with session(engine) as s:
            versions = s.exec(select(DocumentVersion)).all()
            assert any(v.record.get("from_list") for v in versions)
            assert any(a.get("sha256") for v in versions for a in v.record["attachments"])
            for v in versions:
                cap = s.get(Capture, v.capture_id)
                again = complete(s, parse_capture(store, cap), cap)  # no list, no downloads
                assert again.content_hash == v.content_hash and again.record == v.record


@pytest.mark.usefixtures("db_url")  # on each database
def test_a_list_that_says_otherwise_is_fetched(tmp_path):
    with PortalSimulator(seed=5, docs=30, family="hanweb-xxgk") as sim:
        cli = crawl(tmp_path, sim)
        sim.reset_requests()
        assert cli.jsonl("crawl", "kaihua")[0]["fetched"] == 0  # the lists prove nothing changed
        first = sim.site.column_docs(sim.site.nodes()[0].id)[0]
        url = next(
            u
            for d in sim.expected_documents()
            for u in d["urls"]
            if u.endswith(f"_{first.id}.html") and f"art_{sim.site.nodes()[0].id}_" in u
        )
        engine = open_database(db_of(tmp_path))
        with session(engine) as s:
            alias = s.exec(select(DocumentUrl).where(DocumentUrl.url == url)).one()
            assert alias.list_meta.get("publish_date") == first.date.isoformat()
            alias.list_meta = {**alias.list_meta, "doc_no": "改过的文号"}  # as if the list said something else
            s.add(alias)
            s.commit()
        sim.reset_requests()
        summary = cli.jsonl("crawl", "kaihua")[0]
        assert summary["fetched"] == 1 and summary["changed"] == 0
        assert [r.path for r in sim.requests if r.path.startswith("/art/")] == [url[len(sim.base_url) :]]
