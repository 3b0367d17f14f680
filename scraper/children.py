"""Worker processes (parse pools, the file-text stage) end with the process that started them, even one
killed with SIGKILL: a kill -9'd crawl leaves no orphans behind (Linux: PR_SET_PDEATHSIG)."""

from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, nice: int = 0) -> None:
    """A pool initializer (initargs=(os.getpid(),)); `nice`: yield the CPU to the parent by that much."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the worker ends when its parent's pipe does
        pass
    if os.getppid() != parent:  # the parent died before that took effect
        os._exit(1)
    if nice:
        os.nice(nice)
