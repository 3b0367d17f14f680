"""A crawled simulator archive for the archive commands' tests (search, export, verify, reparse ...)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import Cli, write_config

from storage.archive import LocalBlobStore
from storage.db import open_database


def crawled_cli(tmp_path: Path, portal, days: int = 2, database_url: str | None = None) -> Cli:
    """Crawl `portal` day 1 (and day 2: adds, edits, deletes) into a fresh archive; the CLI on it."""
    cfg = write_config(tmp_path, portal)
    if database_url:
        cfg.write_text(
            cfg.read_text().replace('data_dir = "data"', f'data_dir = "data"\ndatabase_url = "{database_url}"')
        )
    cli = Cli(cfg)
    portal.set_day(1)
    cli("crawl", "kaihua")
    if days >= 2:
        portal.set_day(2)
        cli("crawl", "kaihua", "--full")
    return cli


def database_url(cli: Cli) -> str:
    text = cli.config.read_text()
    for line in text.splitlines():
        if line.startswith("database_url"):
            return json.loads(line.split("=", 1)[1].strip())
    return f"sqlite:///{cli.config.parent / 'data' / 'xxgk.db'}"


def engine_of(cli: Cli):
    return open_database(database_url(cli))


def store_of(cli: Cli) -> LocalBlobStore:
    return LocalBlobStore(cli.config.parent / "data" / "archive")


def documents(cli: Cli) -> list[dict]:
    """Every document with its current body, through the JSONL export."""
    out = cli("export", "--format", "jsonl").stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]
