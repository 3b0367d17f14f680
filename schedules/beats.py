"""Process heartbeats in the `daemons` table: the daemon's and every worker's (role in the holder name).

`xxgk trigger` uses them to say whether anyone will hear a request; `xxgk fleet` lists them, and
`xxgk fleet --check ROLE` is the container healthcheck (a live ROLE on this host).
"""
from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Optional

from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.db import session
from storage.models import DaemonBeat, utcnow

BEAT_SECONDS = 2.0
BEAT_FRESH = timedelta(seconds=10)


def write_beat(engine: Engine, holder: str, stopped: bool = False) -> None:
    with session(engine) as s:
        beat = s.get(DaemonBeat, holder) or DaemonBeat(holder=holder, pid=os.getpid(), host=socket.gethostname())
        beat.heartbeat_at = utcnow()
        beat.stopped_at = beat.heartbeat_at if stopped else None
        s.add(beat)
        s.commit()


def live(engine: Engine, role: Optional[str] = None, host: Optional[str] = None) -> list[DaemonBeat]:
    """Processes that beat within BEAT_FRESH and have not stopped; `role` is 'daemon' or 'worker'."""
    with session(engine) as s:
        q = select(DaemonBeat).where(DaemonBeat.heartbeat_at >= utcnow() - BEAT_FRESH,
                                     DaemonBeat.stopped_at.is_(None))
        if role:
            q = q.where(DaemonBeat.holder.contains(f":{role}:"))
        if host:
            q = q.where(DaemonBeat.host == host)
        return list(s.exec(q.order_by(DaemonBeat.holder)))
