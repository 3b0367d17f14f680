"""The tables. Every change here goes with an alembic migration in storage/migrations/versions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Source(SQLModel, table=True):
    __tablename__ = "sources"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    family: str | None = None
    title: str | None = None
    health: str = "UNKNOWN"
    health_reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class RunCounters(SQLModel):
    """What a crawl run counts: columns of the run ledger, and fields of a run's summary."""

    listed: int = 0
    fetched: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    errors: int = 0
    blocked: int = 0  # anti-bot answers (412 challenge, 403 wall, captcha)
    no_metadata: int = 0  # documents parsed without a metadata block
    layout_problems: int = 0  # list pages that did not look like their family
    requests: int = 0


COUNTERS = tuple(RunCounters.model_fields)


class CrawlRun(RunCounters, table=True):
    """The run ledger: one row per crawl run, and one per scheduled slot that did not run."""

    __tablename__ = "crawl_runs"
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    trigger: str = "manual"  # manual | schedule | trigger | queue
    mode: str = "incremental"  # incremental | full
    status: str = "running"  # running | ok | partial | failed | interrupted | coalesced | skipped
    scheduled_for: datetime | None = Field(default=None, index=True)  # the due slot, for schedule runs
    reason: str | None = Field(default=None, sa_column=Column(Text))  # why skipped / coalesced / caught up
    holder: str | None = None  # the process that ran it (lease holder)
    health: str | None = None  # the source's health as this run left it
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))


class Lease(SQLModel, table=True):
    """Who crawls a source now; lapses at expires_at unless the holder's heartbeat extends it."""

    __tablename__ = "leases"
    source_id: int = Field(foreign_key="sources.id", primary_key=True)
    holder: str
    acquired_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class RetryItem(SQLModel, table=True):
    """A document that failed (fetch or store): the source's next run tries it first, until given up."""

    __tablename__ = "retry_list"
    __table_args__ = (UniqueConstraint("source_id", "url"),)
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    list_title: str | None = Field(default=None, sa_column=Column(Text))
    list_date: str | None = None
    list_meta: dict | None = Field(default=None, sa_column=Column(JSON))
    recheck: bool = False  # a URL the lists no longer showed (a --full check)
    tries: int = 0
    reason: str | None = Field(default=None, sa_column=Column(Text))  # the last failure
    first_failed_at: datetime = Field(default_factory=utcnow)
    last_failed_at: datetime = Field(default_factory=utcnow)
    given_up_at: datetime | None = None


class TriggerRequest(SQLModel, table=True):
    """`xxgk trigger NAME`: a crawl asked of the running daemon."""

    __tablename__ = "trigger_requests"
    id: int | None = Field(default=None, primary_key=True)
    source_name: str = Field(index=True)
    full: bool = False
    requested_at: datetime = Field(default_factory=utcnow)
    taken_at: datetime | None = Field(default=None, index=True)
    run_id: int | None = None
    outcome: str | None = None


class DaemonBeat(SQLModel, table=True):
    """A running daemon's heartbeat, so `trigger` can say when no daemon is there to hear it."""

    __tablename__ = "daemons"
    holder: str = Field(primary_key=True)
    pid: int
    host: str
    started_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime = Field(default_factory=utcnow)
    stopped_at: datetime | None = None
    database: str | None = Field(default=None, sa_column=Column(Text))  # outage now, or the last one ridden out


class Blob(SQLModel, table=True):
    """One row per distinct archived body (sha256 of the raw bytes)."""

    __tablename__ = "blobs"
    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    stored_size: int
    created_at: datetime = Field(default_factory=utcnow)


class Capture(SQLModel, table=True):
    """One HTTP exchange as fetched: what was asked, what came back, and where the bytes are."""

    __tablename__ = "captures"
    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="crawl_runs.id", index=True)
    source_id: int | None = Field(default=None, foreign_key="sources.id", index=True)
    kind: str = "page"  # robots | list | article | attachment
    method: str = "GET"
    url: str = Field(sa_column=Column(Text, nullable=False))
    request_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    request_headers: list = Field(default_factory=list, sa_column=Column(JSON))
    status: int
    headers: list = Field(default_factory=list, sa_column=Column(JSON))
    fetched_at: datetime = Field(default_factory=utcnow)
    sha256: str | None = Field(default=None, foreign_key="blobs.sha256", index=True)
    size: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))


class Document(SQLModel, table=True):
    """A document is its normalised 索引号; without one, its canonical URL (key 'url:...')."""

    __tablename__ = "documents"
    id: int | None = Field(default=None, primary_key=True)
    doc_key: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    index_no: str | None = Field(default=None, index=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    flags: list = Field(default_factory=list, sa_column=Column(JSON))
    version: int = 1
    title: str | None = Field(default=None, sa_column=Column(Text))
    doc_no: str | None = None
    publisher: str | None = Field(default=None, index=True)
    publish_date: str | None = Field(default=None, index=True)
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    changed_at: datetime = Field(default_factory=utcnow)
    withdrawn_at: datetime | None = None


class DocumentVersion(SQLModel, table=True):
    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", index=True)
    version: int
    capture_id: int = Field(foreign_key="captures.id")
    content_hash: str = Field(index=True)
    parser_version: str
    record: dict = Field(default_factory=dict, sa_column=Column(JSON))  # the parsed record
    body_text: str = Field(default="", sa_column=Column(Text))
    seen_at: datetime = Field(default_factory=utcnow)


class DocumentUrl(SQLModel, table=True):
    """Every URL where a document was seen, with what its list said about it last time."""

    __tablename__ = "document_urls"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    document_id: int = Field(foreign_key="documents.id", index=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    list_title: str | None = Field(default=None, sa_column=Column(Text))
    list_date: str | None = None
    list_meta: dict | None = Field(default=None, sa_column=Column(JSON))  # 索引号/文号/dates the list gave
    content_hash: str | None = None  # what this URL served last (stops flip-flops between URLs)
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    gone_at: datetime | None = None


class Attachment(SQLModel, table=True):
    __tablename__ = "attachments"
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="document_versions.id", index=True)
    name: str = Field(sa_column=Column(Text, nullable=False))
    url: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str | None = Field(default=None, foreign_key="blobs.sha256")
    size: int | None = None


Index("ix_captures_url_fetched", Capture.__table__.c.url, Capture.__table__.c.fetched_at)


class DocumentReparse(SQLModel, table=True):
    """A version re-parsed by a newer parser: the version row now holds the new parse, this row the old.

    A better parser is never a publisher's edit: it changes the record of the same version."""

    __tablename__ = "document_reparses"
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="document_versions.id", index=True)
    parser_version: str  # the parser that made the new parse
    previous_parser_version: str
    previous_content_hash: str
    previous_record: dict = Field(default_factory=dict, sa_column=Column(JSON))
    previous_body_text: str = Field(default="", sa_column=Column(Text))
    reparsed_at: datetime = Field(default_factory=utcnow)


class SearchText(SQLModel, table=True):
    """The searchable text of each document's current version, normalised (storage/search.py).

    SQLite indexes it with FTS5 (trigram + character bigrams), PostgreSQL with pg_trgm."""

    __tablename__ = "search_text"
    document_id: int = Field(foreign_key="documents.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    title: str = Field(default="", sa_column=Column(Text, nullable=False))
    body: str = Field(default="", sa_column=Column(Text, nullable=False))


class Event(SQLModel, table=True):
    """The outbox: a document new, changed or withdrawn, or a source's health changed. Written in the
    transaction that records the change itself (storage/outbox.py); delivered by schedules/notify.py."""

    __tablename__ = "events"
    id: int | None = Field(default=None, primary_key=True)
    kind: str  # new | changed | withdrawn | health
    source_id: int = Field(foreign_key="sources.id", index=True)
    document_id: int | None = Field(default=None, foreign_key="documents.id", index=True)
    version: int | None = None  # the version that is new (new, changed) or was current (withdrawn)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON))  # what the message names, as of then
    created_at: datetime = Field(default_factory=utcnow)


class WatchState(SQLModel, table=True):
    """A configured watch as the ledger knows it: events before it was first seen are not its business."""

    __tablename__ = "watch_state"
    name: str = Field(primary_key=True)
    since_event_id: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    last_digest_at: datetime | None = None


class WatchEvent(SQLModel, table=True):
    """An event looked at for a watch (once: the primary key), and the message (batch) it went into."""

    __tablename__ = "watch_events"
    watch: str = Field(primary_key=True)
    event_id: int = Field(foreign_key="events.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    batch: str | None = Field(default=None, index=True)  # None: the event does not match the watch


class Delivery(SQLModel, table=True):
    """One message of a watch to one of its notify URLs (named by a hash: no secrets in the database).
    The message is rendered once, so every retry sends the same bytes with the same key."""

    __tablename__ = "deliveries"
    id: int | None = Field(default=None, primary_key=True)
    watch: str = Field(index=True)
    batch: str = Field(index=True)
    target: str  # sha256[:16] of the notify URL
    key: str = Field(unique=True)  # idempotency key (webhooks), Message-ID (email)
    title: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    events: int = 0
    status: str = Field(default="pending", index=True)  # pending | delivered
    tries: int = 0
    next_try_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


class FileText(SQLModel, table=True):
    """The text read out of one archived file (by sha256) by one extractor version (scraper/extract).

    A newer extractor version adds a row; the newest row of a file is the one searched. Pages are
    separated by a form feed in `text`; `labels` names them when they are not numbered (zip members)."""

    __tablename__ = "file_texts"
    __table_args__ = (UniqueConstraint("sha256", "extractor_version"),)
    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(foreign_key="blobs.sha256", index=True, max_length=64)
    extractor: str  # pdf | docx | xlsx | ofd | doc | et | txt | zip | none
    extractor_version: str  # e.g. "pdf/1"
    library: str | None = None  # e.g. "pypdf 7.1.1"
    status: str  # ok | partial | empty | scanned | error | unsupported
    pages: int | None = None
    chars: int = 0
    labels: list | None = Field(default=None, sa_column=Column(JSON))
    error: str | None = Field(default=None, sa_column=Column(Text))
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    seconds: float = 0.0
    extracted_at: datetime = Field(default_factory=utcnow)


class SearchFile(SQLModel, table=True):
    """The searchable text of each file's newest extraction, normalised (storage/search.py), indexed
    like search_text: FTS5 on SQLite, pg_trgm on PostgreSQL."""

    __tablename__ = "search_files"
    file_text_id: int = Field(foreign_key="file_texts.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    sha256: str = Field(index=True, unique=True, max_length=64)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
