"""Process heartbeats in the `daemons` table: the daemon's and every worker's (role in the holder name).

`xxgk trigger` uses them to say whether anyone will hear a request; `xxgk fleet` lists them, and
`xxgk fleet --check ROLE` is the container healthcheck (a live ROLE on this host). `claim_sole`
keeps the daemon the one scheduler of a database.
"""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import timedelta

from loguru import logger
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from schedules.ledger import mark_stale_runs
from storage import retry
from storage.db import session
from storage.leases import pid_running
from storage.models import DaemonBeat, utcnow

BEAT_SECONDS = 2.0
SWEEP_EVERY = 5
BEAT_FRESH = timedelta(seconds=10)
_SOLE_LOCK = 0x78786B64  # pg advisory lock key while a daemon claims the scheduler's place


def write_beat(engine: Engine, holder: str, stopped: bool = False) -> None:
    """The process's heartbeat, with the database outage it rode out last (health)."""
    with session(engine) as s:
        beat = s.get(DaemonBeat, holder) or DaemonBeat(holder=holder, pid=os.getpid(), host=socket.gethostname())
        beat.heartbeat_at = utcnow()
        beat.stopped_at = beat.heartbeat_at if stopped else None
        beat.database = retry.state()
        s.add(beat)
        s.commit()


async def beat_forever(engine: Engine, holder: str) -> None:
    """The daemon's and a worker's life sign, through database outages; every SWEEP_EVERY beats it
    also closes runs left 'running' without a live holder (the ledger never lies for long)."""
    n = 0
    while True:
        retry.quietly(engine, lambda: write_beat(engine, holder), "heartbeat")
        if n % SWEEP_EVERY == 0:
            closed = retry.quietly(engine, lambda: mark_stale_runs(engine), "closing stale runs")
            if closed:
                logger.warning("closed {} runs left running without a live holder (recorded as interrupted)", closed)
        n += 1
        await asyncio.sleep(BEAT_SECONDS)


def _live_query(role: str | None = None, host: str | None = None):
    """Processes that beat within BEAT_FRESH and have not stopped; `role` is 'daemon' or 'worker'."""
    q = select(DaemonBeat).where(DaemonBeat.heartbeat_at >= utcnow() - BEAT_FRESH, DaemonBeat.stopped_at.is_(None))
    if role:
        q = q.where(DaemonBeat.holder.contains(f":{role}:"))
    if host:
        q = q.where(DaemonBeat.host == host)
    return q.order_by(DaemonBeat.holder)


def live(engine: Engine, role: str | None = None, host: str | None = None) -> list[DaemonBeat]:
    with session(engine) as s:
        return list(s.exec(_live_query(role, host)))


def claim_sole(engine: Engine, holder: str, role: str) -> DaemonBeat | None:
    """Start beating as the one live `role` of this database, unless another is alive: then that one
    is returned and nothing is written. A fresh beat of a process gone from this host (killed, or a
    restarted container) does not count. Check and claim are one serialised transaction."""
    here, me = socket.gethostname(), os.getpid()
    with session(engine) as s:
        if engine.dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SOLE_LOCK})
        for other in s.exec(_live_query(role)).all():
            if other.holder != holder and not (other.host == here and (other.pid == me or not pid_running(other.pid))):
                return other
        s.add(DaemonBeat(holder=holder, pid=me, host=here))
        s.commit()
    return None
