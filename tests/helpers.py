"""Test helpers: a config pointing at a simulator, and the real CLI in-process."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from typer.testing import CliRunner

from cli.main import app


def path_regex(url: str) -> str:
    """A fault-injection pattern matching exactly the path of `url`."""
    return re.escape(urlsplit(url).path) + "$"


def write_config(tmp_path: Path, sim, **source) -> Path:
    opts = {"rate": 0, "concurrency": 4, "family": "hanweb-jpage", **source}
    lines = ['[settings]', 'data_dir = "data"', 'retries = 2', 'timeout = 5', 'backoff = 0.05', '',
             '[[sources]]', 'name = "kaihua"',
             "start_urls = [" + ", ".join(json.dumps(u) for u in sim.column_urls) + "]"]
    for key, value in opts.items():
        if value is not None:
            lines.append(f"{key} = {json.dumps(value)}")
    path = tmp_path / "xxgk.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


class Cli:
    def __init__(self, config: Path):
        self.config = config
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int | None = 0):
        result = self.runner.invoke(app, ["--config", str(self.config), *args], catch_exceptions=False)
        if code is not None:
            assert result.exit_code == code, f"exit {result.exit_code}: {result.output}"
        return result

    def jsonl(self, *args: str, code: int | None = 0) -> list[dict]:
        out = self(*args, "--json", code=code).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]


CONTRACT = ("index_no", "title", "doc_no", "publisher", "publish_date", "written_date",
            "disclosure", "validity", "topic", "genre", "fields", "body_text")


def crawled(cli) -> dict[str, dict]:
    """Every document, full JSON, keyed by 索引号 (or URL when it has none)."""
    docs = {}
    for row in cli.jsonl("ls"):
        key = row["index_no"] or row["url"]
        assert key not in docs, f"document listed twice: {key}"
        docs[key] = row
    return docs


def full_doc(cli, key: str) -> dict:
    return json.loads(cli("show", key, "--json").stdout)


def check_exact(cli, expected: list[dict]) -> dict[str, dict]:
    rows = crawled(cli)
    want = {e["index_no"] or sorted(e["urls"])[0]: e for e in expected}
    by_url = {u: k for k, r in rows.items() for u in r["urls"]}
    got = {}
    for key, exp in want.items():
        k = key if exp["index_no"] else by_url.get(key)
        assert k in rows, f"missing document {key}"
        doc = full_doc(cli, k)
        for field in CONTRACT:
            assert doc[field] == exp[field], f"{key}: {field}: {doc[field]!r} != {exp[field]!r}"
        assert sorted(doc["urls"]) == sorted(exp["urls"]), key
        assert doc["attachments"] == exp["attachments"], key          # name, url, sha256 and size
        got[key] = doc
    live = [r for r in rows.values() if r["withdrawn_at"] is None]
    assert len(live) == len(want), "documents crawled that the portal does not have"
    return got
