"""Per-source leases in the database: one crawler per source at a time, across processes and hosts.

A lease is taken with one atomic upsert that succeeds only when the row is free, lapsed, already
ours, or held by a process of this host that is gone (a killed crawl is resumed at once); the
holder's heartbeat extends it while it has not lapsed; a crashed holder's lease elsewhere lapses.
Holder names start with "host:pid:".
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from storage.models import Lease, utcnow
from storage.retry import Abandoned

T = Lease.__table__


class LeaseLost(Abandoned):
    """A crawl's write found its lease gone (taken by another process, or lapsed)."""


def pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # PermissionError: alive, another user's
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def gone_from_here(holder: str) -> bool:
    """A holder of this host whose process has ended (killed, crashed)."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    return host == socket.gethostname() and pid.isdigit() and not pid_running(int(pid))


def acquire(engine: Engine, source_id: int, holder: str, ttl: float) -> str | None:
    """Take the lease. Returns None on success, else the current holder's name."""
    busy = _acquire(engine, source_id, holder, ttl)
    if busy is not None and gone_from_here(busy):
        busy = _acquire(engine, source_id, holder, ttl, dead=busy)
    return busy


def _acquire(engine: Engine, source_id: int, holder: str, ttl: float, dead: str | None = None) -> str | None:
    now = utcnow()
    values = {"source_id": source_id, "holder": holder, "acquired_at": now, "expires_at": now + timedelta(seconds=ttl)}
    with engine.begin() as conn:
        ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(T).values(**values)
        stmt = ins.on_conflict_do_update(
            index_elements=[T.c.source_id],
            set_={k: ins.excluded[k] for k in ("holder", "acquired_at", "expires_at")},
            where=(T.c.expires_at < now) | (T.c.holder == holder) | (T.c.holder == dead),
        ).returning(T.c.holder)
        if conn.execute(stmt).first() is not None:
            return None
        row = conn.execute(select(T.c.holder).where(T.c.source_id == source_id)).first()
        return row.holder if row else "unknown"


def renew(engine: Engine, source_id: int, holder: str, ttl: float) -> bool:
    """Extend our lease; False when it is no longer ours or has lapsed (it is never revived)."""
    now = utcnow()
    with engine.begin() as conn:
        res = conn.execute(
            update(T)
            .where(T.c.source_id == source_id, T.c.holder == holder, T.c.expires_at >= now)
            .values(expires_at=now + timedelta(seconds=ttl))
        )
        return res.rowcount == 1


def held(conn, source_id: int, holder: str) -> bool:
    """Inside a writer's transaction: is the lease still ours and live? (the fence of every crawl write)"""
    return (
        conn.execute(
            select(T.c.holder).where(T.c.source_id == source_id, T.c.holder == holder, T.c.expires_at >= utcnow())
        ).first()
        is not None
    )


def release(engine: Engine, source_id: int, holder: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(T).where(T.c.source_id == source_id, T.c.holder == holder))


def live_holders(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {r.holder for r in conn.execute(select(T.c.holder).where(T.c.expires_at >= utcnow()))}


def holder_of(engine: Engine, source_id: int) -> tuple[str, datetime] | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(T.c.holder, T.c.expires_at).where(T.c.source_id == source_id, T.c.expires_at >= utcnow())
        ).first()
        return (row.holder, row.expires_at) if row else None
