"""`xxgk verify`: prove the archive. Read-only.

Every blob the database knows is read back and re-hashed (missing, truncated, corrupt, wrong size);
every row that names a blob, a capture, a version or a document must find it; every blob in the
store must be known to the database (else it is an orphan).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

from sqlalchemy import text
from sqlmodel import Session, select

from storage.archive import BlobCorrupt, BlobMissing, BlobStore, BlobTruncated
from storage.models import Blob, Capture

BATCH = 500
BLOB_FAULTS = ((BlobMissing, "missing_blob"), (BlobTruncated, "truncated_blob"), (BlobCorrupt, "corrupt_blob"))

# Rows that must point somewhere: (what, table, SQL returning (id, target) of the rows that do not).
DANGLING = (
    (
        "capture without its blob row",
        "captures",
        "SELECT c.id, c.sha256 FROM captures c LEFT JOIN blobs b ON b.sha256 = c.sha256 "
        "WHERE c.sha256 IS NOT NULL AND b.sha256 IS NULL",
    ),
    (
        "attachment without its blob row",
        "attachments",
        "SELECT a.id, a.sha256 FROM attachments a LEFT JOIN blobs b "
        "ON b.sha256 = a.sha256 WHERE a.sha256 IS NOT NULL AND b.sha256 IS NULL",
    ),
    (
        "version without its capture",
        "document_versions",
        "SELECT v.id, v.capture_id FROM document_versions v LEFT JOIN captures c "
        "ON c.id = v.capture_id WHERE c.id IS NULL",
    ),
    (
        "version without its document",
        "document_versions",
        "SELECT v.id, v.document_id FROM document_versions v LEFT JOIN documents d "
        "ON d.id = v.document_id WHERE d.id IS NULL",
    ),
    (
        "document without its current version",
        "documents",
        "SELECT d.id, d.version FROM documents d LEFT JOIN document_versions v "
        "ON v.document_id = d.id AND v.version = d.version WHERE v.id IS NULL",
    ),
    (
        "document URL without its document",
        "document_urls",
        "SELECT u.id, u.document_id FROM document_urls u LEFT JOIN documents d "
        "ON d.id = u.document_id WHERE d.id IS NULL",
    ),
    (
        "attachment without its version",
        "attachments",
        "SELECT a.id, a.version_id FROM attachments a LEFT JOIN document_versions v "
        "ON v.id = a.version_id WHERE v.id IS NULL",
    ),
    (
        "re-parse without its version",
        "document_reparses",
        "SELECT r.id, r.version_id FROM document_reparses r LEFT JOIN document_versions v "
        "ON v.id = r.version_id WHERE v.id IS NULL",
    ),
)


@dataclass
class Fault:
    kind: str  # missing_blob | truncated_blob | corrupt_blob | dangling_row | orphan_blob
    detail: str
    sha256: str | None = None
    table: str | None = None
    row_id: int | None = None
    used_by: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        what = self.sha256 or f"{self.table} {self.row_id}"
        used = f" (used by {', '.join(self.used_by)})" if self.used_by else ""
        return f"{self.kind.replace('_', ' ')} {what}: {self.detail}{used}"


@dataclass
class VerifyReport:
    blobs_checked: int = 0
    bytes_checked: int = 0
    link_checks: int = 0
    files_checked: int = 0
    faults: list[Fault] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults

    def as_dict(self) -> dict:
        counts: dict[str, int] = {}
        for f in self.faults:
            counts[f.kind] = counts.get(f.kind, 0) + 1
        return {
            "ok": self.ok,
            "blobs_checked": self.blobs_checked,
            "bytes_checked": self.bytes_checked,
            "link_checks": self.link_checks,
            "files_checked": self.files_checked,
            "fault_counts": counts,
            "faults": [asdict(f) for f in self.faults],
        }


def _blob_batches(s: Session) -> Iterator[list[Blob]]:
    last = ""
    while True:
        rows = list(s.exec(select(Blob).where(Blob.sha256 > last).order_by(Blob.sha256).limit(BATCH)))
        if not rows:
            return
        yield rows
        last = rows[-1].sha256
        s.expunge_all()


def _used_by(s: Session, sha256: str, limit: int = 3) -> list[str]:
    caps = s.exec(
        select(Capture.id, Capture.url).where(Capture.sha256 == sha256).order_by(Capture.id).limit(limit)
    ).all()
    out = [f"capture {cid} {url}" for cid, url in caps]
    n = s.exec(text("SELECT count(*) FROM attachments WHERE sha256 = :h").bindparams(h=sha256)).scalar()
    return out + ([f"{n} attachment(s)"] if n else [])


def check_blob(store: BlobStore, blob: Blob) -> tuple[str, str] | None:
    """(fault kind, detail) for one blob, or None when it reads back to its name and size (`get`
    checks the name: a blob hashing to anything else is BlobCorrupt)."""
    try:
        data = store.get(blob.sha256)
    except tuple(cls for cls, _ in BLOB_FAULTS) as exc:
        return next(kind for cls, kind in BLOB_FAULTS if isinstance(exc, cls)), str(exc)
    if len(data) != blob.size:
        return "corrupt_blob", f"{len(data)} bytes, the database says {blob.size}"
    return None


def verify(s: Session, store: BlobStore, progress: Callable[[int], None] | None = None) -> VerifyReport:
    report = VerifyReport()
    step = progress or (lambda n: None)
    for batch in _blob_batches(s):
        for blob in batch:
            fault = check_blob(store, blob)
            report.blobs_checked += 1
            report.bytes_checked += blob.size
            if fault:
                report.faults.append(Fault(fault[0], fault[1], sha256=blob.sha256, used_by=_used_by(s, blob.sha256)))
        step(len(batch))
    for what, table, sql in DANGLING:
        for row_id, target in s.exec(text(sql)):
            report.faults.append(Fault("dangling_row", f"{what} ({target})", table=table, row_id=row_id))
        report.link_checks += 1
    report.faults += _orphans(s, store, report)
    return report


def _orphans(s: Session, store: BlobStore, report: VerifyReport) -> list[Fault]:
    """Blobs in the store that no blob row names (looked up a batch at a time: memory stays flat)."""
    faults: list[Fault] = []

    def flush(names: list[str]) -> None:
        known = set(s.exec(select(Blob.sha256).where(Blob.sha256.in_(names))))
        faults.extend(
            Fault("orphan_blob", "in the store, unknown to the database", sha256=h) for h in names if h not in known
        )

    pending: list[str] = []
    for name in store.iter_hashes():
        report.files_checked += 1
        pending.append(name)
        if len(pending) >= BATCH:
            flush(pending)
            pending = []
    if pending:
        flush(pending)
    return faults


def total_blobs(s: Session) -> int:
    return s.exec(text("SELECT count(*) FROM blobs")).scalar()
