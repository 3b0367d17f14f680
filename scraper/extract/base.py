"""What every extractor returns, and the limits that keep a hostile file from costing more than its worth."""

from __future__ import annotations

import time
import zipfile
from dataclasses import dataclass, field

OK, PARTIAL, EMPTY, SCANNED, ERROR, UNSUPPORTED = "ok", "partial", "empty", "scanned", "error", "unsupported"
PAGE_BREAK = "\f"


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 200 * 1024 * 1024  # larger files are not read at all
    max_chars: int = 5_000_000  # text kept per file; the rest is cut (status partial)
    max_pages: int = 5_000
    seconds: float = 300.0  # per file; checked between pages
    zip_max_members: int = 2_000
    zip_max_total: int = 512 * 1024 * 1024  # declared uncompressed bytes of all members
    zip_max_member: int = 200 * 1024 * 1024
    zip_max_ratio: int = 200  # uncompressed / compressed of one member


class TooBig(Exception):
    """A limit was reached: the message says which."""


@dataclass
class Extracted:
    extractor: str  # pdf | docx | xlsx | ofd | doc | et | txt | zip | none
    version: str  # e.g. "pdf/1": changes when the extractor reads better
    library: str | None = None  # e.g. "pypdf 7.1.1"
    status: str = OK
    pages: list[str] = field(default_factory=list)
    labels: list[str] | None = None  # page names when pages are not numbered (zip members)
    error: str | None = None

    @property
    def text(self) -> str:
        return PAGE_BREAK.join(self.pages)


class Budget:
    """Characters, pages and seconds left for one file; `add` returns False once one runs out."""

    def __init__(self, limits: Limits):
        self.limits, self.chars, self.started = limits, 0, time.monotonic()
        self.stopped: str | None = None

    def add(self, out: list[str], page: str) -> bool:
        room = self.limits.max_chars - self.chars
        if len(page) > room:
            page, self.stopped = page[:room], f"text cut at {self.limits.max_chars:,} characters"
        out.append(page)
        self.chars += len(page)
        if self.stopped is None and len(out) >= self.limits.max_pages:
            self.stopped = f"stopped after {self.limits.max_pages:,} pages"
        if self.stopped is None and time.monotonic() - self.started > self.limits.seconds:
            self.stopped = f"stopped after {self.limits.seconds:g} s at page {len(out)}"
        return self.stopped is None


def check_zip(zf: zipfile.ZipFile, limits: Limits) -> None:
    """TooBig for a zip bomb: too many members, too large declared sizes, or a ratio no document has."""
    infos = zf.infolist()
    if len(infos) > limits.zip_max_members:
        raise TooBig(f"zip bomb guard: {len(infos):,} members (limit {limits.zip_max_members:,})")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.zip_max_member:
            raise TooBig(f"zip bomb guard: member {info.filename!r} unpacks to {info.file_size:,} bytes")
        if info.file_size > 1_000_000 and info.file_size > limits.zip_max_ratio * max(info.compress_size, 1):
            raise TooBig(
                f"zip bomb guard: member {info.filename!r} compresses {info.file_size // max(info.compress_size, 1):,}:1"
            )
    if total > limits.zip_max_total:
        raise TooBig(f"zip bomb guard: members unpack to {total:,} bytes (limit {limits.zip_max_total:,})")


def read_member(zf: zipfile.ZipFile, name: str, limits: Limits) -> bytes:
    """A member's bytes, never more than its declared size allows (a lying header cannot inflate it)."""
    info = zf.getinfo(name)
    with zf.open(info) as fh:
        data = fh.read(min(info.file_size, limits.zip_max_member) + 1)
    if len(data) > min(info.file_size, limits.zip_max_member):
        raise TooBig(f"zip bomb guard: member {name!r} unpacks past its declared size")
    return data
