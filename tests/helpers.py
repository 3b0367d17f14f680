"""Test helpers: a config pointing at a simulator, and the real CLI in-process."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from alembic import command
from sqlalchemy.engine import Connection
from typer.testing import CliRunner

from cli.main import app
from storage.contract import CONTRACT_FIELDS
from storage.db import alembic_config, make_engine


def path_regex(url: str) -> str:
    """A fault-injection pattern matching exactly the path of `url`."""
    return re.escape(urlsplit(url).path) + "$"


@contextmanager
def schema_at(url: str, revision: str) -> Iterator[Connection]:
    """The database at `url` migrated up to `revision` only, in one transaction: for adding the rows an
    older version of the program would have made."""
    engine = make_engine(url)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        yield conn


DATABASE_URL: str | None = None  # set per test by the `db_url` fixture (None: the embedded SQLite)


def db_of(config_dir: Path) -> str:
    """The database of a config that write_config made in `config_dir`."""
    return DATABASE_URL or f"sqlite:///{config_dir}/data/xxgk.db"


def write_config(tmp_path: Path, sim, settings: dict | None = None, **source) -> Path:
    """A config with one source `kaihua` on simulator `sim`, on the test's database."""
    opts = {"rate": 0, "concurrency": 4, "family": "hanweb-jpage", **source}
    extra = {"database_url": DATABASE_URL, **(settings or {})}
    lines = [
        "[settings]",
        'data_dir = "data"',
        "retries = 2",
        "timeout = 5",
        "backoff = 0.05",
        *(f"{k} = {json.dumps(v)}" for k, v in extra.items() if v is not None),
        "",
        "[[sources]]",
        'name = "kaihua"',
        "start_urls = [" + ", ".join(json.dumps(u) for u in sim.column_urls) + "]",
    ]
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


CONTRACT = (*CONTRACT_FIELDS, "fields", "body_text")


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


def check_exact(cli, expected: list[dict], shows: int = 4) -> dict[str, dict]:
    """Every expected document there exactly once, each field as the portal has it: read in one `export`
    (the full JSON of every document), and `show --json` of the first `shows` of them (the path a person
    reads) checked against it, so both reading paths are held to the portal's truth."""
    rows = crawled(cli)
    out = cli("export", "--format", "jsonl").stdout
    full = {d["index_no"] or d["url"]: d for d in (json.loads(line) for line in out.splitlines() if line.strip())}
    want = {e["index_no"] or sorted(e["urls"])[0]: e for e in expected}
    by_url = {u: k for k, r in rows.items() for u in r["urls"]}
    got = {}
    for n, (key, exp) in enumerate(want.items()):
        k = key if exp["index_no"] else by_url.get(key)
        assert k in rows, f"missing document {key}"
        doc = full[k]
        if n < shows:
            shown = full_doc(cli, k)
            assert {f: shown[f] for f in doc if f != "files_text"} == {f: doc[f] for f in doc if f != "files_text"}
        for field in CONTRACT:
            assert doc[field] == exp[field], f"{key}: {field}: {doc[field]!r} != {exp[field]!r}"
        assert sorted(doc["urls"]) == sorted(exp["urls"]), key
        assert doc["attachments"] == exp["attachments"], key  # name, url, sha256 and size
        got[key] = doc
    live = [r for r in rows.values() if r["withdrawn_at"] is None]
    assert len(live) == len(want), "documents crawled that the portal does not have"
    return got


XXGK = str(Path(sys.executable).with_name("xxgk"))


def parse_ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")) if s else None


def wait_for(pred, timeout=20.0, step=0.1, why=None):
    """Poll `pred` until it returns something true; on timeout fail, with `why()` in the message."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting{f': {why()}' if why else ''}")


class Proc:
    """A real `xxgk VERB …` process (daemon, worker), its output in a log file; `start` waits for `ready`."""

    def __init__(self, config: Path, log: Path, *verb: str, ready: str):
        self.config, self.log, self.verb, self.ready = config, log, verb, ready
        self.proc = None

    def start(self) -> Proc:
        self.fh = open(self.log, "ab")
        seen = len(self.output()) if self.log.exists() else 0
        self.proc = subprocess.Popen(
            [XXGK, "--config", str(self.config), "-v", *self.verb], stdout=self.fh, stderr=subprocess.STDOUT
        )
        wait_for(lambda: self.ready in self.output()[seen:] or self.proc.poll() is not None)
        assert self.proc.poll() is None, self.output()
        return self

    def stop(self, sig=signal.SIGTERM, timeout=30) -> int:
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:  # say where it is stuck (schedules/stacks.py), then end it
            self.proc.send_signal(signal.SIGUSR1)  # tasks and threads, from the event loop
            time.sleep(1)
            self.proc.send_signal(signal.SIGUSR2)  # threads, even with the event loop blocked
            time.sleep(1)
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f"{' '.join(self.verb)} did not stop in {timeout}s:\n{self.output()[-30000:]}"
            ) from None
        self.fh.close()
        return code

    def output(self) -> str:
        return self.log.read_text("utf-8", "replace")
