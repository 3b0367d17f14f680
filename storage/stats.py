"""`xxgk stats`: what the archive holds, counted in the database (aggregates only: cheap at any size)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, text
from sqlmodel import Session, select

from storage import search
from storage.models import Blob, Capture, CrawlRun, Document, DocumentReparse, DocumentVersion, Source


def _scalar(s: Session, q) -> int:
    return int(s.exec(q).one() or 0)


def _grouped(s: Session, sql: str, source_id: int | None) -> dict[str, int]:
    return {(k if k is not None else "(none)"): int(n) for k, n in s.exec(text(sql), params={"sid": source_id})}


def archive_stats(s: Session, source_id: int | None = None) -> dict:
    """The whole archive, or one source's part of it (its documents, captures and the blobs they name)."""

    def docs(q):
        return q.where(Document.source_id == source_id) if source_id is not None else q

    def caps(q):
        return q.where(Capture.source_id == source_id) if source_id is not None else q

    where = "WHERE source_id = :sid" if source_id is not None else ""
    all_blobs = select(Blob)
    if source_id is not None:
        all_blobs = all_blobs.where(Blob.sha256.in_(select(Capture.sha256).where(Capture.source_id == source_id)))
    blobs = all_blobs.subquery()
    n_docs = _scalar(s, docs(select(func.count()).select_from(Document)))
    raw = _scalar(s, select(func.coalesce(func.sum(blobs.c.size), 0)))
    stored = _scalar(s, select(func.coalesce(func.sum(blobs.c.stored_size), 0)))
    fetched = _scalar(s, caps(select(func.coalesce(func.sum(Capture.size), 0))))
    by_source = {}
    for name, n, withdrawn, versions in s.exec(
        text(
            "SELECT s.name, count(d.id), count(d.withdrawn_at), coalesce(sum(d.version), 0) "
            "FROM sources s LEFT JOIN documents d ON d.source_id = s.id "
            + ("WHERE s.id = :sid " if source_id is not None else "")
            + "GROUP BY s.name ORDER BY s.name"
        ),
        params={"sid": source_id},
    ):
        by_source[name] = {"documents": int(n), "withdrawn": int(withdrawn), "versions": int(versions)}
    versions = (
        select(func.count()).select_from(DocumentVersion).join(Document, Document.id == DocumentVersion.document_id)
    )
    return {
        "documents": n_docs,
        "withdrawn": _scalar(
            s, docs(select(func.count()).select_from(Document).where(Document.withdrawn_at.is_not(None)))
        ),
        "versions": _scalar(s, docs(versions)),
        "documents_changed": _scalar(s, docs(select(func.count()).select_from(Document).where(Document.version > 1))),
        "reparses": _scalar(
            s,
            docs(
                select(func.count())
                .select_from(DocumentReparse)
                .join(DocumentVersion, DocumentVersion.id == DocumentReparse.version_id)
                .join(Document, Document.id == DocumentVersion.document_id)
            ),
        ),
        "without_index_no": _scalar(
            s, docs(select(func.count()).select_from(Document).where(Document.index_no.is_(None)))
        ),
        "sources": len(by_source),
        "by_source": by_source,
        "by_publisher": _grouped(
            s,
            f"SELECT publisher, count(*) FROM documents {where} GROUP BY publisher ORDER BY count(*) DESC, publisher",
            source_id,
        ),
        "by_year": _grouped(
            s,
            f"SELECT substr(publish_date, 1, 4) AS y, count(*) FROM documents {where} "
            "GROUP BY substr(publish_date, 1, 4) ORDER BY y DESC",
            source_id,
        ),
        "captures": _scalar(s, caps(select(func.count()).select_from(Capture))),
        "archive": {
            "blobs": _scalar(s, select(func.count()).select_from(blobs)),
            "fetched_bytes": fetched,  # every capture's body, duplicates counted
            "raw_bytes": raw,  # distinct bodies (identical bytes stored once)
            "stored_bytes": stored,  # on disk, zstd-compressed
            "dedupe_saved_bytes": fetched - raw,
            "compression_saved_bytes": raw - stored,
            "stored_vs_fetched": round(stored / fetched, 4) if fetched else None,
        },
        "database_bytes": _database_bytes(s),
        "search": search.backend(s.connection()),
    }


def _database_bytes(s: Session) -> int | None:
    """The SQLite file (+ WAL), or the PostgreSQL tables and indexes of the current schema."""
    bind = s.get_bind()
    if bind.dialect.name == "postgresql":
        return int(
            s.execute(
                text(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                )
            ).scalar()
        )
    name = bind.url.database
    if not name or name == ":memory:":
        return None
    return sum(p.stat().st_size for p in (Path(name), Path(f"{name}-wal")) if p.exists())


def new_per_day(s: Session, days: int = 30) -> dict[str, dict[str, int]]:
    """Documents first seen on each of the last `days` days (UTC), by source name and YYYY-MM-DD."""
    since = datetime.now(UTC) - timedelta(days=days)
    day = func.date(Document.first_seen)
    out: dict[str, dict[str, int]] = {}
    for name, d, n in s.exec(
        select(Source.name, day, func.count())
        .join(Source, Source.id == Document.source_id)
        .where(Document.first_seen >= since)
        .group_by(Source.name, day)
    ):
        out.setdefault(name, {})[str(d)] = int(n)
    return out


def fleet_gauges(s: Session) -> dict:
    """What the metrics endpoints report from the database: documents and health by source, runs by
    source and status, each source's last successful run."""
    sources = {sid: (name, health) for sid, name, health in s.exec(select(Source.id, Source.name, Source.health))}
    docs = dict(s.exec(select(Document.source_id, func.count()).group_by(Document.source_id)).all())
    runs = s.exec(
        select(CrawlRun.source_id, CrawlRun.status, func.count()).group_by(CrawlRun.source_id, CrawlRun.status)
    ).all()
    last_ok = dict(
        s.exec(
            select(CrawlRun.source_id, func.max(CrawlRun.finished_at))
            .where(CrawlRun.status == "ok")
            .group_by(CrawlRun.source_id)
        ).all()
    )
    return {
        "documents": {name: int(docs.get(sid, 0)) for sid, (name, _) in sources.items()},
        "health": {name: health for name, health in sources.values()},
        "runs": {(sources[sid][0], status): int(n) for sid, status, n in runs},
        "last_success": {sources[sid][0]: ts for sid, ts in last_ok.items() if ts is not None},
    }
