"""A crawl's lease heartbeat, on its own thread: it never waits behind the crawl's database, disk or
parsing work (all on the event loop).

It renews every ttl/3. When renewal fails (another process took the lease, or the database cannot be
reached) the lease counts as lost MARGIN before it would lapse: `lost()` then names why, and the crawl
stops writing (its writes also check the lease inside their transactions) and ends interrupted.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy.engine import Engine

from schedules.metrics import LEASE_RENEWALS
from storage.leases import renew
from storage.retry import noted, outage


class LeaseKeeper:
    def __init__(self, engine: Engine, source_id: int, name: str, holder: str, ttl: float):
        self.engine, self.source_id, self.name, self.holder, self.ttl = engine, source_id, name, holder, ttl
        self.margin = min(ttl / 6, 5.0)
        self.valid_until = time.monotonic() + ttl  # just acquired
        self._lost: str | None = None
        self.outage = False  # lost because renewals failed (not taken by another process)
        self._why = "the database could not be reached"
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{name}", daemon=True)

    def start(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def lost(self) -> str | None:
        """None while the lease is safely ours; else why not (then it stays lost)."""
        if self._lost is None and time.monotonic() >= self.valid_until - self.margin:
            self.outage = True
            self._lost = (
                f"lost the lease on {self.name}: not renewed for {self.ttl - self.margin:.0f} s "
                f"({self._why}); stopped before it could lapse"
            )
        return self._lost

    def _run(self) -> None:
        pause = self.ttl / 3
        while not self._done.wait(pause) and self.lost() is None:
            tried = time.monotonic()
            try:
                ok = renew(self.engine, self.source_id, self.holder, self.ttl)
                LEASE_RENEWALS.labels("renewed" if ok else "lost").inc()
            except Exception as exc:  # noqa: BLE001 - renewal is tried again until the lease would lapse
                LEASE_RENEWALS.labels("failed").inc()
                noted(exc, f"renewing the lease on {self.name}")
                self._why = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
                pause = min(1.0, self.ttl / 10)
                continue
            outage.up()
            if not ok:
                self._lost = f"lost the lease on {self.name}: another process holds it, or it lapsed"
                return
            self.valid_until, pause = tried + self.ttl, self.ttl / 3
