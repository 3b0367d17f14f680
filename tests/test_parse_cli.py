"""`xxgk parse FILE|URL`: one page parsed into the contract record with its attachments, nothing archived;
`--explain` names the label or rule behind each field."""

from __future__ import annotations

import json

import pytest
from helpers import CONTRACT, Cli, write_config
from samples import sample

from simulator import PortalSimulator

ZJ = "hanweb-jpaas_zj-fzggw_article_xxgk-meta.html"
ZJ_URL = "https://fzggw.zj.gov.cn/col/col1229123351/art/2026/art_937add6719f140bdac86d5b97c525d28.html"


@pytest.fixture
def sim():
    with PortalSimulator(seed=3, docs=30) as s:
        yield s


def test_a_saved_page_with_its_base_url(tmp_path):
    cli = Cli(tmp_path / "none.toml")
    record = json.loads(cli("parse", str(sample(ZJ)), "--base-url", ZJ_URL, "--json", "--explain").stdout)
    assert record["index_no"] == "11330000002482031M/2026-1010578183" and record["written_date"] == "2026-06-02"
    assert record["url"] == ZJ_URL
    assert record["attachments"][0]["url"].startswith("https://fzggw.zj.gov.cn/api-gateway/jpaas-web-server/")
    assert record["explain"]["written_date"] == "label 生成日期 (metadata block)"
    assert record["explain"]["title"] == "<meta ArticleTitle>"
    text = cli("parse", str(sample(ZJ)), "--base-url", ZJ_URL, "--explain").stdout
    assert "浙发改能源〔2026〕116号" in text and "label 文件编号 (metadata block)" in text and "attachments (1)" in text
    assert not (tmp_path / "data").exists()  # nothing archived


def test_a_url_of_the_simulator_without_archiving(tmp_path, sim):
    cli = Cli(write_config(tmp_path, sim))
    with_files = next(e for e in sim.expected_documents() if e["attachments"])
    record = json.loads(cli("parse", with_files["urls"][0], "--json").stdout)
    assert {k: record[k] for k in CONTRACT} == {k: with_files[k] for k in CONTRACT}
    assert record["attachments"] == [{"name": a["name"], "url": a["url"]} for a in with_files["attachments"]]
    assert "explain" not in record
    assert "no archive yet" in cli("stats", "--json", code=1).output  # nothing archived, no database made


def test_bad_targets_say_what_is_wrong(tmp_path, sim):
    cli = Cli(write_config(tmp_path, sim))
    assert "no such file: nope.html" in cli("parse", "nope.html", code=2).stderr
    assert "HTTP 404" in cli("parse", sim.base_url + "/art/2025/1/1/art_1_1.html", code=1).stderr
    assert "--base-url needs an http" in cli("parse", "x.html", "--base-url", "ftp://x", code=2).stderr
    (tmp_path / "pic.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert "cannot parse" in cli("parse", str(tmp_path / "pic.html"), code=1).stderr
