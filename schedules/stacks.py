"""`kill -USR1 <pid>` on a daemon or worker logs what it is doing: every thread's stack and every
asyncio task's coroutine stack (a process that will not stop is waiting on one of them). `kill -USR2`
writes the threads' stacks to stderr even when the event loop itself is blocked (faulthandler). A stop is
bounded (`end_when_overdue`): past grace + STOP_MARGIN the process logs what it was doing and ends as `kill -9`
would, which both the daemon (runs closed as interrupted at the next start) and the queue recover from."""

from __future__ import annotations

import asyncio
import faulthandler
import os
import signal
import sys
import threading
import traceback

from loguru import logger

STOP_MARGIN = 8.0  # seconds past grace_seconds a stop may take before the process ends regardless
EXIT_OVERDUE = 3  # the exit code of a stop that had to be cut short


def dump() -> str:
    names = {t.ident: t.name for t in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        parts.append(f"thread {names.get(ident, ident)}:\n" + "".join(traceback.format_stack(frame)))
    try:
        tasks = asyncio.all_tasks()
    except RuntimeError:  # no running loop
        tasks = set()
    for task in tasks:
        where = "".join(
            f'  File "{f.f_code.co_filename}", line {f.f_lineno}, in {f.f_code.co_name}\n' for f in _awaiting(task)
        )
        parts.append(f"task {task.get_name()}:\n{where or '  (done or not started)'}")
    return "\n".join(parts)


def _awaiting(task: asyncio.Task) -> list:
    """The task's coroutine and what it awaits, outermost first (Task.get_stack gives the outermost only)."""
    frames, coro = [], task.get_coro()
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None) or getattr(coro, "ag_frame", None)
        if frame is None:
            break
        frames.append(frame)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None) or getattr(coro, "ag_await", None)
    return frames


def install(loop: asyncio.AbstractEventLoop) -> None:
    faulthandler.register(signal.SIGUSR2, all_threads=True)
    loop.add_signal_handler(signal.SIGUSR1, lambda: logger.warning("SIGUSR1: what this process is doing\n{}", dump()))


def end_when_overdue(what: str, limit: float, aftermath: str) -> None:
    """Called `limit` seconds into a stop that has not ended: say what the process was doing, then end it."""
    logger.error("{} still stopping after {:g}s: ending now; {}. It was doing:\n{}", what, limit, aftermath, dump())
    logger.complete()
    os._exit(EXIT_OVERDUE)
