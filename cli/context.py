"""What every command needs: the config, the database, the archive, logging, and clean exits."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterable, Optional

import typer
from loguru import logger
from rich.console import Console

from scraper.config import Config, ConfigError, load_config
from storage.archive import ArchiveError, BlobStore, open_archive
from storage.db import DatabaseError, open_database

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
METRICS_PORT = typer.Option(None, "--metrics-port", min=1, max=65535, metavar="PORT",
                            help="Serve Prometheus metrics at http://0.0.0.0:PORT/metrics.")
def make_console(stderr: bool = False) -> Console:
    """Messages never hard-wrapped; tables use the terminal's width, or 200 columns in a pipe."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, soft_wrap=True, width=None if stream.isatty() else 200)


err_console = make_console(stderr=True)


def fail(message: str, code: int = EXIT_USAGE) -> "typer.Exit":
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


@dataclass
class AppContext:
    config_path: Optional[str] = None
    verbosity: int = 0
    log_json: bool = False

    @cached_property
    def config(self) -> Config:
        try:
            cfg = load_config(self.config_path)
        except ConfigError as exc:
            raise fail(f"bad config: {exc}")
        if cfg.settings.log_file:
            add_log_file(cfg.data_dir / "logs" / "xxgk.log", self.log_json)
        return cfg

    @cached_property
    def engine(self):
        try:
            return open_database(self.config.database_url)
        except DatabaseError as exc:
            raise fail(str(exc), EXIT_FAILED)

    @cached_property
    def store(self) -> BlobStore:
        try:
            return open_archive(self.config.archive_url)
        except (ArchiveError, OSError) as exc:
            raise fail(f"cannot open archive {self.config.archive_url}: {exc}", EXIT_FAILED)


def setup_logging(verbosity: int, log_json: bool = False) -> None:
    """stderr at the chosen verbosity: text for people, or JSON lines (--log-json) for machines."""
    level = {-1: "ERROR", 0: "WARNING", 1: "INFO"}.get(verbosity, "DEBUG")
    logger.remove()
    if log_json:
        logger.add(sys.stderr, level=level, serialize=True)
    else:
        logger.add(sys.stderr, level=level, format="<green>{time:HH:mm:ss}</> <level>{level: <7}</> {message}")


def add_log_file(path: Path, log_json: bool) -> None:
    """A rotating INFO log under the data dir (10 MB a file, 10 files kept)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        logger.add(path, level="INFO", rotation="10 MB", retention=10, serialize=log_json, encoding="utf-8")
    except OSError as exc:
        logger.warning("no log file at {}: {}", path, exc)


def print_jsonl(rows: Iterable[dict]) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
    sys.stdout.flush()


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def ctx_obj(ctx: typer.Context) -> AppContext:
    return ctx.find_root().obj
