"""The text inside files, end to end (SQLite and PostgreSQL): the simulator serves real files made here,
a crawl archives them and reads their text beside the run; search finds a phrase only a file holds
(naming the file and page), `files text` prints it, exports carry it, the API shows it; damaged, encrypted
and hostile files are per-file errors that never fail the crawl; `reparse --files` reads again what an
older extractor read, keeping the older text."""

from __future__ import annotations

import json

import file_samples as fs
import httpx
import pytest
from helpers import Cli, Proc, db_of, write_config
from sqlalchemy import text
from web_helpers import free_port

from simulator import PortalSimulator
from storage.db import open_database

pytestmark = pytest.mark.usefixtures("db_url")

PHRASE = "黔东南苗岭梯田保护规划"  # only in the PDF's second page
PAIR = "彝绣"  # a two-character word only in the .docx
SHEET = "冬小麦良种补贴"  # only in the .xlsx
OFD_LINE = "电子公文版式文件正文"  # only in the OFD


def files_for(sim: PortalSimulator) -> dict[str, tuple[str, bytes, str]]:
    """kind -> (the document's 索引号, bytes, the text expected in it), each on its own document's first file."""
    made = {
        "pdf": (fs.pdf(["第一页：年度工作要点", f"第二页：{PHRASE}的实施"]), PHRASE),
        "docx": (fs.docx(["关于开展非遗传承的通知", f"重点项目：{PAIR}与蜡染"]), PAIR),
        "xlsx": (fs.xlsx({"补贴": [["项目", "标准"], [SHEET, "每亩十元"]]}), SHEET),
        "ofd": (fs.ofd([["第一页", OFD_LINE]]), OFD_LINE),
        "doc": (fs.word97("旧版公文格式的正文"), "旧版公文格式"),
        "zip": (fs.zip_of({"说明.txt": "压缩包说明文字\x00结尾".encode()}), "压缩包说明文字"),  # a NUL: PostgreSQL
        "damaged": (fs.damaged_pdf(fs.pdf(["不会读到的内容"])), None),
        "encrypted": (fs.pdf(["加了口令的文件"], password="secret"), None),
        "bomb": (fs.zip_bomb(0.3), None),
    }
    docs = [d for d in sim.corpus.docs(1).values() if d.attachments and d.value("索引号")]
    out = {}
    for (kind, (data, expect)), doc in zip(made.items(), docs):
        sim.serve_file(doc.attachments[0].filename, data)
        out[kind] = (doc.value("索引号"), data, expect)
    assert len(out) == len(made)
    return out


@pytest.fixture
def crawled(tmp_path):
    with PortalSimulator(seed=11, docs=80) as sim:
        served = files_for(sim)
        cli = Cli(write_config(tmp_path, sim))
        run = cli.jsonl("crawl", "kaihua")[0]
        yield cli, served, run


def test_crawl_reads_files_and_search_finds_what_only_a_file_holds(crawled):
    cli, served, run = crawled
    assert run["status"] == "ok"  # damaged, encrypted and bomb files fail alone
    hits = cli.jsonl("search", PHRASE)
    assert [h["index_no"] for h in hits] == [served["pdf"][0]]
    match = hits[0]["files_matched"][0]
    assert (match["page"], match["pages"], match["page_label"]) == (2, 2, "page 2")
    assert PHRASE in match["snippet"] and hits[0]["matched_in"] == ["files"]
    a, b = match["snippet_matches"][0]
    assert match["snippet"][a:b] == PHRASE
    assert cli.jsonl("search", PHRASE, "--in", "pages") == []
    assert [h["index_no"] for h in cli.jsonl("search", PHRASE, "--in", "files")] == [served["pdf"][0]]
    for kind in ("docx", "xlsx", "ofd", "doc", "zip"):  # a two-character word included
        index_no, _, expect = served[kind]
        assert [h["index_no"] for h in cli.jsonl("search", expect, "--in", "files")] == [index_no], kind
    assert [h["index_no"] for h in cli.jsonl("search", f'"{PHRASE}的实施" 第二页')] == [served["pdf"][0]]
    both_pages = cli.jsonl("search", PHRASE, "年度工作要点")  # terms on two pages of one file
    assert [h["index_no"] for h in both_pages] == [served["pdf"][0]] and both_pages[0]["files_matched"][0]["page"] == 1
    title_word = hits[0]["title"][-4:]  # one term in the page, one in the file: no
    assert cli.jsonl("search", title_word, "--in", "pages") and cli.jsonl("search", PHRASE, title_word) == []
    shown = cli("search", PAIR).stdout
    assert "in file" in shown and "page 1" in shown and PAIR in shown


def test_files_text_prints_each_file_or_its_error(crawled):
    cli, served, _ = crawled
    pdf_text = cli("files", "text", served["pdf"][0], "1")
    assert PHRASE in pdf_text.stdout and "\f" in pdf_text.stdout
    assert cli("files", "text", served["pdf"][0], "1", "--page", "2").stdout.strip() == f"第二页：{PHRASE}的实施"
    got = json.loads(cli("files", "text", served["xlsx"][0], "1", "--json").stdout)
    assert (got["extractor"], got["status"], got["page_labels"]) == ("xlsx", "ok", ["sheet 补贴"])
    for kind, error in (
        ("damaged", "damaged PDF:"),
        ("encrypted", "encrypted PDF: it needs a password"),
        ("bomb", "zip bomb guard:"),
    ):
        out = cli("files", "text", served[kind][0], "1", code=1)
        assert "error" in out.stderr and error in out.stderr, (kind, out.stderr)
    assert "no document 'nope'" in cli("files", "text", "nope", code=1).stderr


def test_export_api_and_reparse_files(crawled, tmp_path):
    cli, served, _ = crawled
    rows = {r["index_no"]: r for r in (json.loads(x) for x in cli("export", "--format", "jsonl").stdout.splitlines())}
    pdf_file = rows[served["pdf"][0]]["files_text"][0]
    assert (pdf_file["extractor"], pdf_file["status"], pdf_file["pages"]) == ("pdf", "ok", 2)
    assert PHRASE in pdf_file["text"]
    assert rows[served["encrypted"][0]]["files_text"][0]["error"] == "encrypted PDF: it needs a password to open"

    port = free_port()
    proc = Proc(
        cli.config, tmp_path / "serve.log", "serve", "--port", str(port), ready="serving the archive on"
    ).start()
    try:
        base = f"http://127.0.0.1:{port}"
        api = httpx.get(f"{base}/api/v1/search", params={"q": PHRASE, "in": "files"}, timeout=30).json()
        assert api["total"] == 1 and api["results"][0]["files_matched"][0]["page"] == 2
        assert httpx.get(f"{base}/api/v1/search", params={"q": PHRASE, "in": "pages"}, timeout=30).json()["total"] == 0
        page = httpx.get(f"{base}/search", params={"q": PHRASE}, timeout=30).text
        assert "in file" in page and "<mark>" + PHRASE + "</mark>" in page
        doc_page = httpx.get(f"{base}/documents/{served['pdf'][0]}", timeout=30).text
        assert "text: " in doc_page and "ok, 2 pages" in doc_page
        assert (
            "encrypted PDF: it needs a password"
            in httpx.get(f"{base}/documents/{served['encrypted'][0]}", timeout=30).text
        )
        assert PHRASE in httpx.get(f"{base}/files/{pdf_file['sha256']}/text", timeout=30).text
    finally:
        proc.stop()

    engine = open_database(db_of(cli.config.parent))  # as if an older extractor had read the PDFs
    with engine.begin() as conn:
        pdfs = conn.execute(
            text("UPDATE file_texts SET extractor_version = 'pdf/0', text = 'old' WHERE extractor = 'pdf' RETURNING id")
        ).all()
    summary = json.loads(cli("reparse", "--files", "--json").stdout)
    assert len(pdfs) > 3 and summary["files"] == len(pdfs)  # ours, and the simulator's own (damaged) ones
    assert summary["by_status"]["ok"] == 1 and summary["by_status"]["error"] == len(pdfs) - 1
    with engine.connect() as conn:
        versions = conn.execute(
            text(
                "SELECT extractor_version, count(*) FROM file_texts WHERE extractor = 'pdf' "
                "GROUP BY extractor_version ORDER BY 1"
            )
        ).all()
    assert [tuple(v) for v in versions] == [("pdf/0", len(pdfs)), ("pdf/1", len(pdfs))]  # the older text is kept
    assert [h["index_no"] for h in cli.jsonl("search", PHRASE)] == [served["pdf"][0]]
    assert json.loads(cli("reparse", "--files", "--json").stdout)["files"] == 0


def test_with_extraction_off_the_crawl_leaves_files_unread_and_extract_catches_up(tmp_path):
    with PortalSimulator(seed=11, docs=80) as sim:
        served = files_for(sim)
        cli = Cli(write_config(tmp_path, sim, settings={"extract_files": False}))
        assert cli.jsonl("crawl", "kaihua")[0]["status"] == "ok"
    assert cli.jsonl("search", PHRASE) == []
    assert "has not been read yet: run `xxgk extract`" in cli("files", "text", served["pdf"][0], "1", code=1).stderr
    first = json.loads(cli("extract", "--limit", "2", "--json").stdout)
    assert first["files"] == 2
    rest = json.loads(cli("extract", "--json").stdout)
    count = {k: first["by_status"].get(k, 0) + rest["by_status"].get(k, 0) for k in ("ok", "error")}
    assert rest["files"] > 5 and count["ok"] == 6 and count["error"] >= 3  # ours: 6 read, 3 refused
    assert any("zip bomb guard" in p for p in first["problems"] + rest["problems"])
    assert [h["index_no"] for h in cli.jsonl("search", PHRASE)] == [served["pdf"][0]]
    assert json.loads(cli("extract", "--json").stdout)["files"] == 0
