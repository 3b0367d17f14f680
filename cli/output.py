"""Output helpers for the archive commands: progress bars on stderr, bytes to stdout, atomic files."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import typer

from cli.context import AppContext, err_console, fail, silence_stdout

if TYPE_CHECKING:  # rich.progress loads with the first progress bar
    from rich.progress import Progress


def progress_bar(app: AppContext) -> Progress:
    """A progress bar on stderr; silent when stderr is not a terminal or with -q."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=app.verbosity < 0 or not err_console.is_terminal,
    )


@contextmanager
def stdout_bytes() -> Iterator[BinaryIO]:
    """sys.stdout's byte stream; a reader that goes away (`| head`) ends the command quietly."""
    try:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        silence_stdout()
        raise typer.Exit(0)


@contextmanager
def output_file(path: Path | None, binary_to_tty: bool = False) -> Iterator[BinaryIO]:
    """`path` written atomically (PATH.part, then renamed on success), or stdout when None or '-'."""
    if path is None or str(path) == "-":
        if binary_to_tty and sys.stdout.isatty():
            raise fail("this output is binary: give -o PATH or pipe it")
        with stdout_bytes() as out:
            yield out
        return
    part = path.with_name(path.name + ".part")
    try:
        with open(part, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise fail(f"cannot write {path}: {exc}", 1)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
