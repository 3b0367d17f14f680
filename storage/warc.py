"""Captures out as WARC 1.1 (warcio): a warcinfo record, then a response and a request record per capture.

Records are rebuilt from what the capture row stored (method, URL, request headers and body, status,
response headers, fetch time) and the archived bytes. The archive keeps the *entity body as
delivered*: transfer encodings undone (chunks joined, gzip/deflate/br decoded). So each response
record says so: Content-Encoding and Transfer-Encoding are removed and Content-Length is set to the
real length; the original values stay as `X-Archive-Orig-<Name>` headers (the convention replay
tools such as pywb use). Every record is gzipped on its own; captures are read a batch at a time.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from importlib.metadata import PackageNotFoundError, version
from typing import BinaryIO
from urllib.parse import urlsplit

from loguru import logger
from sqlalchemy import func
from sqlmodel import Session, select
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from storage.archive import ArchiveError, BlobStore
from storage.models import Capture, Source

BATCH = 500
DECODED = ("content-encoding", "transfer-encoding")  # undone before archiving
ORIG = "X-Archive-Orig-"


@dataclass
class WarcSummary:
    captures: int = 0
    records: int = 0
    payload_bytes: int = 0
    skipped: list[str] = field(default_factory=list)  # captures whose blob could not be read


def response_headers(headers: list, body_len: int) -> list[tuple[str, str]]:
    """The stored headers made true for the archived (decoded) body."""
    out: list[tuple[str, str]] = []
    for name, value in headers or []:
        low = name.lower()
        if low in DECODED or (low == "content-length" and value.strip() != str(body_len)):
            out.append((ORIG + name, value))
        elif low != "content-length":
            out.append((name, value))
    out.append(("Content-Length", str(body_len)))
    return out


def _warc_date(ts: datetime) -> str:
    ts = ts.astimezone(UTC) if ts.tzinfo else ts
    return datetime_to_iso_date(ts.replace(tzinfo=None), use_micros=True)


def _software() -> str:
    try:
        return f"xxgk-archive {version('xxgk-archive')}"
    except PackageNotFoundError:
        return "xxgk-archive"


def _captures(s: Session, source: str | None, since: str | None, until: str | None = None):
    """Captures of `source` fetched on the UTC days `since`..`until` (YYYY-MM-DD, both inclusive)."""
    q = select(Capture)
    if source:
        q = q.join(Source, Source.id == Capture.source_id).where(Source.name == source)
    if since:
        q = q.where(Capture.fetched_at >= datetime.fromisoformat(since).replace(tzinfo=UTC))
    if until:
        q = q.where(Capture.fetched_at < datetime.fromisoformat(until).replace(tzinfo=UTC) + timedelta(days=1))
    return q


def count_captures(s: Session, *, source: str | None = None, since: str | None = None, until: str | None = None) -> int:
    return int(s.exec(_captures(s, source, since, until).with_only_columns(func.count(Capture.id))).one())


def iter_captures(
    s: Session,
    *,
    source: str | None = None,
    since: str | None = None,
    until: str | None = None,
    batch: int = BATCH,
) -> Iterator[Capture]:
    last = 0
    while True:
        caps = list(
            s.exec(_captures(s, source, since, until).where(Capture.id > last).order_by(Capture.id).limit(batch))
        )
        if not caps:
            return
        yield from caps
        last = caps[-1].id
        s.expunge_all()


def write_warc(
    s: Session,
    store: BlobStore,
    out: BinaryIO,
    *,
    source: str | None = None,
    since: str | None = None,
    until: str | None = None,
    gzip: bool = True,
    filename: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> WarcSummary:
    writer = WARCWriter(out, gzip=gzip, warc_version="1.1")
    writer.write_record(
        writer.create_warcinfo_record(
            filename or "",
            {
                "software": _software(),
                "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                "description": "xxgk-archive captures; response payloads are entity bodies after transfer decoding "
                "(Content-Encoding/Transfer-Encoding removed, originals as X-Archive-Orig-*)",
            },
        )
    )
    sm = WarcSummary(records=1)
    step = progress or (lambda n: None)
    for cap in iter_captures(s, source=source, since=since, until=until):
        try:
            body = store.get(cap.sha256) if cap.sha256 else b""
        except ArchiveError as exc:
            sm.skipped.append(f"capture {cap.id} {cap.url}: {exc}")
            logger.error("WARC export skips capture {}: {}", cap.id, exc)
            step(1)
            continue
        resp, req = _records(writer, cap, body)
        writer.write_request_response_pair(req, resp)
        sm.captures += 1
        sm.records += 2
        sm.payload_bytes += len(body)
        step(1)
    return sm


def _records(writer: WARCWriter, cap: Capture, body: bytes):
    date = _warc_date(cap.fetched_at)
    reason = HTTPStatus(cap.status).phrase if cap.status in HTTPStatus._value2member_map_ else "Unknown"
    http = StatusAndHeaders(f"{cap.status} {reason}", response_headers(cap.headers, len(body)), protocol="HTTP/1.1")
    resp = writer.create_warc_record(
        cap.url,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        http_headers=http,
        warc_headers_dict={"WARC-Date": date},
    )
    parts = urlsplit(cap.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    req_body = cap.request_body or b""
    req_headers = [(k, v) for k, v in cap.request_headers or []]
    if not any(k.lower() == "host" for k, _ in req_headers):
        req_headers.insert(0, ("Host", parts.netloc))
    req_http = StatusAndHeaders(f"{cap.method} {target} HTTP/1.1", req_headers, is_http_request=True)
    req = writer.create_warc_record(
        cap.url,
        "request",
        payload=io.BytesIO(req_body),
        length=len(req_body),
        http_headers=req_http,
        warc_headers_dict={"WARC-Date": date},
    )
    return resp, req
