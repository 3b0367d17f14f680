"""Hold the leases of some sources for work that is not a crawl (e.g. `xxgk reparse`).

While held, no crawl of those sources runs anywhere (and this waits for none): a busy source raises
SourceBusy at once. `renew()` extends the leases; call it often (it renews at most every ttl/3).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine

from schedules.runner import SourceBusy, new_holder
from storage.leases import acquire, holder_of, release, renew


@contextmanager
def hold_sources(engine: Engine, sources: dict[int, str], role: str, ttl: float) -> Iterator[Callable[[], None]]:
    holder = new_holder(role)
    taken: list[int] = []
    last = time.monotonic()

    def keep() -> None:
        nonlocal last
        if time.monotonic() - last >= ttl / 3:
            for sid in taken:
                renew(engine, sid, holder, ttl)
            last = time.monotonic()

    try:
        for sid, name in sources.items():
            busy = acquire(engine, sid, holder, ttl)
            if busy is not None:
                held = holder_of(engine, sid)
                raise SourceBusy(name, busy, held[1] if held else None)
            taken.append(sid)
        yield keep
    finally:
        for sid in taken:
            release(engine, sid, holder)
