"""What every command needs: the config, the database, the archive, logging, and clean exits."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup
from typer.exceptions import TyperException

if TYPE_CHECKING:  # the modules behind these load on first use: `xxgk --help` needs none of them
    from sqlalchemy.engine import Engine

    from scraper.config import Config
    from storage.archive import BlobStore
    from storage.doc_reads import Reads

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3  # EXIT_BUSY: the source is being crawled elsewhere

METRICS_PORT = typer.Option(
    None,
    "--metrics-port",
    min=1,
    max=65535,
    metavar="PORT",
    help="Serve Prometheus metrics at http://0.0.0.0:PORT/metrics.",
)


def make_console(stderr: bool = False) -> Console:
    """Messages never hard-wrapped; tables use the terminal's width, or 200 columns in a pipe."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, soft_wrap=True, width=None if stream.isatty() else 200)


err_console = make_console(stderr=True)


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    err_console.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False)
    return typer.Exit(code)


@dataclass
class AppContext:
    config_path: str | None = None
    verbosity: int = 0
    log_json: bool = False

    @cached_property
    def config(self) -> Config:
        from scraper.config import ConfigError, load_config

        try:
            cfg = load_config(self.config_path)
        except ConfigError as exc:
            raise fail(f"bad config: {exc}")
        return cfg

    @cached_property
    def engine(self) -> Engine:
        """The database, created and migrated as needed (commands that write); the log file starts here."""
        from storage.db import DatabaseError, open_database

        try:
            engine = open_database(self.config.database_url, self.config.settings.db_outage_seconds)
        except DatabaseError as exc:
            raise fail(str(exc), EXIT_FAILED)
        if self.config.settings.log_file:
            add_log_file(self.config.data_dir / "logs" / "xxgk.log", self.log_json)
        return engine

    def missing_archive(self) -> str | None:
        """The embedded database's path when it does not exist yet (nothing was ever crawled), else None."""
        from sqlalchemy.engine import make_url

        url = make_url(self.config.database_url)
        if (
            url.get_backend_name() == "sqlite"
            and url.database not in (None, "", ":memory:")
            and not Path(url.database).exists()
        ):
            return url.database
        return None

    def close(self) -> None:
        """The command is over: the database's pooled connections are closed (the engine is made again if
        the same context runs another command)."""
        engine = self.__dict__.pop("engine", None)
        if engine is not None:
            engine.dispose()

    @property
    def archive_engine(self) -> Engine:
        """The database of a read-only command: an embedded one that does not exist yet is not created."""
        missing = self.missing_archive()
        if missing:
            raise fail(f"no archive yet: {missing} does not exist (`xxgk crawl NAME` makes it)", EXIT_FAILED)
        return self.engine

    @contextmanager
    def document_reads(self) -> Iterator[Reads]:
        """storage/doc_reads.py's reader for a read-only command, in one read transaction: stdlib sqlite3
        on an embedded archive at the newest migration (no SQLAlchemy to import), else SQLAlchemy Core."""
        from storage.sqlite_reads import open_reads

        fast = open_reads(self.config.database_url)
        if fast is not None:
            with fast:
                yield fast
            return
        from storage.db import read_connection
        from storage.queries import CoreReads

        with read_connection(self.archive_engine) as conn:
            yield CoreReads(conn)

    @cached_property
    def store(self) -> BlobStore:
        from storage.archive import ArchiveError, open_archive

        try:
            return open_archive(self.config.archive_url)
        except (ArchiveError, OSError) as exc:
            raise fail(f"cannot open archive {self.config.archive_url}: {exc}", EXIT_FAILED)


def setup_logging(verbosity: int, log_json: bool = False) -> None:
    """stderr at the chosen verbosity: text for people, or JSON lines (--log-json) for machines. Installed
    when loguru is first imported: a command that never logs (`ls`, `show`, `--help`) never loads it (it
    imports asyncio: ~30 ms of a start-up that must stay under 0.3 s)."""
    if "loguru" in sys.modules:
        _install_logging(verbosity, log_json)
    else:
        _LoguruImport.pending = (verbosity, log_json)
        if _LoguruImport not in sys.meta_path:
            sys.meta_path.insert(0, _LoguruImport)


class _LoguruImport:
    """A meta-path finder that finds nothing itself: it runs `_install_logging` right after loguru loads."""

    pending: tuple[int, bool] = (0, False)

    @classmethod
    def find_spec(cls, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "loguru":
            return None
        sys.meta_path.remove(cls)
        from importlib.util import find_spec

        spec = find_spec(name)  # the real one
        if spec is not None and spec.loader is not None:
            load = spec.loader.exec_module

            def exec_module(module: Any) -> None:
                load(module)
                _install_logging(*cls.pending)

            spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _install_logging(verbosity: int, log_json: bool) -> None:
    from loguru import logger

    threshold = logger.level({-1: "ERROR", 0: "WARNING", 1: "INFO"}.get(verbosity, "DEBUG")).no

    def shown(record) -> bool:  # long-running verbs announce what they do (extra announce) unless -q
        return record["level"].no >= threshold or (verbosity >= 0 and record["extra"].get("announce", False))

    logger.remove()  # diagnose=False everywhere: a traceback never prints local variables (settings, secrets)
    if log_json:
        logger.add(sys.stderr, level=0, filter=shown, serialize=True, diagnose=False)
    else:
        logger.add(
            sys.stderr,
            level=0,
            filter=shown,
            diagnose=False,
            format="<green>{time:HH:mm:ss}</> <level>{level: <7}</> {message}",
        )


def add_log_file(path: Path, log_json: bool) -> None:
    """A rotating INFO log under the data dir (10 MB a file, 10 files kept)."""
    from loguru import logger

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        logger.add(
            path, level="INFO", rotation="10 MB", retention=10, serialize=log_json, encoding="utf-8", diagnose=False
        )
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


class CleanErrors(TyperGroup):
    """No traceback reaches a user: an unexpected error is one line naming it (and the path, for a file
    error); the traceback, without local variables, only with -vv."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException, KeyboardInterrupt):  # usage errors stay typer's
            raise
        except BrokenPipeError:  # the reader went away (`| head`): end quietly
            silence_stdout()
            raise typer.Exit(0)
        except Exception as exc:  # noqa: BLE001 - the last stop before the user
            app = ctx.obj if isinstance(ctx.obj, AppContext) else AppContext()
            if app.verbosity >= 2:
                err_console.print(traceback.format_exc(), highlight=False, markup=False)
            raise fail(f"{describe(exc)} (-vv shows the traceback)", EXIT_FAILED) from None
        finally:  # a command run in-process (tests, CliRunner) returns its database connections too
            if isinstance(ctx.obj, AppContext):
                ctx.obj.close()


def silence_stdout() -> None:
    """Point stdout at /dev/null, so Python's flush at exit raises no second BrokenPipeError."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def describe(exc: BaseException) -> str:
    """An exception in one line: for a file error, what failed and on which path."""
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
