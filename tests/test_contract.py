"""The contract's fields are defined once (storage/contract.py) and the rest follows: the recipe for a new
field, proved with a toy field, and the parser's side kept in step."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, fields

from helpers import Cli
from samples import sample

from scraper.parse import PARSER_VERSION, ParsedArticle, parse_article
from scraper.parse.labels import FIELD_LABELS
from storage import contract
from storage.archive import LocalBlobStore
from storage.captures import archive_response
from storage.db import open_database, session
from storage.documents import Parsed, apply_parse
from storage.models import Source

PAGE = "trs_pingtan_t20091203_780.html"  # a real saved page (no 索引号: keyed by its URL)


def test_the_parser_reads_exactly_the_contracts_fields():
    assert tuple(FIELD_LABELS) == contract.CONTRACT_FIELDS
    assert tuple(f.name for f in fields(ParsedArticle))[: len(contract.CONTRACT_FIELDS)] == contract.CONTRACT_FIELDS


@dataclass
class WithToy(contract.ContractRecord):
    toy: str | None = None  # the recipe's one line (a real field goes into ContractRecord itself)


def test_a_new_field_reaches_show_ls_export_and_diff_from_its_definition_alone(tmp_path, monkeypatch):
    cfg = tmp_path / "xxgk.toml"
    cfg.write_text('[settings]\ndata_dir = "data"\n', "utf-8")
    engine = open_database(f"sqlite:///{tmp_path}/data/xxgk.db")
    store = LocalBlobStore(tmp_path / "data" / "archive")
    page = sample(PAGE)
    url = json.loads(page.with_suffix(".json").read_text("utf-8"))["url"]
    art = parse_article(page.read_bytes(), url, "text/html")
    record = {**art.to_dict(), "toy": "玩具值"}  # what the parser gives once FIELD_LABELS names the toy's labels
    with session(engine) as s:
        src = Source(name="pingtan", family="trs-static")
        s.add(src)
        s.flush()
        cap = archive_response(
            s,
            store,
            url=url,
            status=200,
            body=page.read_bytes(),
            headers=[["content-type", "text/html"]],
            source_id=src.id,
        )
        apply_parse(
            s,
            source_id=src.id,
            url=url,
            capture_id=cap.id,
            parsed=Parsed(record=record, body_text=art.body_text, content_hash="h1", parser_version=PARSER_VERSION),
        )
        s.commit()
    key = art.index_no or f"url:{url}"
    cli = Cli(cfg)
    assert "toy" not in json.loads(cli("show", key, "--json").stdout)  # not in the contract yet

    monkeypatch.setattr(contract, "CONTRACT_FIELDS", contract.field_names(WithToy))
    shown = json.loads(cli("show", key, "--json").stdout)
    assert shown["toy"] == "玩具值" and list(shown)[: len(contract.CONTRACT_FIELDS)] == list(contract.CONTRACT_FIELDS)
    assert "toy" in cli("show", key).stdout and "玩具值" in cli("show", key).stdout
    assert cli.jsonl("ls")[0]["toy"] == "玩具值"
    exported = list(csv.DictReader(io.StringIO(cli("export", "--format", "csv").stdout)))
    assert exported[0]["toy"] == "玩具值"
    assert json.loads(cli("export", "--format", "jsonl").stdout.splitlines()[0])["toy"] == "玩具值"
