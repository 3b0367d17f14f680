"""Per-source leases in the database: one crawler per source at a time, across processes and hosts.

A lease is taken with one atomic upsert that succeeds only when the row is free, lapsed, or already
ours; the holder's heartbeat extends it; a crashed holder's lease simply lapses.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from storage.models import Lease, utcnow

T = Lease.__table__


def acquire(engine: Engine, source_id: int, holder: str, ttl: float) -> Optional[str]:
    """Take the lease. Returns None on success, else the current holder's name."""
    now = utcnow()
    values = {"source_id": source_id, "holder": holder, "acquired_at": now,
              "expires_at": now + timedelta(seconds=ttl)}
    with engine.begin() as conn:
        ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(T).values(**values)
        stmt = ins.on_conflict_do_update(
            index_elements=[T.c.source_id],
            set_={k: ins.excluded[k] for k in ("holder", "acquired_at", "expires_at")},
            where=(T.c.expires_at < now) | (T.c.holder == holder),
        ).returning(T.c.holder)
        if conn.execute(stmt).first() is not None:
            return None
        row = conn.execute(select(T.c.holder).where(T.c.source_id == source_id)).first()
        return row.holder if row else "unknown"


def renew(engine: Engine, source_id: int, holder: str, ttl: float) -> bool:
    with engine.begin() as conn:
        res = conn.execute(update(T).where(T.c.source_id == source_id, T.c.holder == holder)
                           .values(expires_at=utcnow() + timedelta(seconds=ttl)))
        return res.rowcount == 1


def release(engine: Engine, source_id: int, holder: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(T).where(T.c.source_id == source_id, T.c.holder == holder))


def live_holders(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {r.holder for r in conn.execute(select(T.c.holder).where(T.c.expires_at >= utcnow()))}


def holder_of(engine: Engine, source_id: int) -> Optional[tuple[str, datetime]]:
    with engine.connect() as conn:
        row = conn.execute(select(T.c.holder, T.c.expires_at).where(
            T.c.source_id == source_id, T.c.expires_at >= utcnow())).first()
        return (row.holder, row.expires_at) if row else None
