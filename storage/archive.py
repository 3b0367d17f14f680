"""The content-addressed raw archive: sha256 of the raw bytes names the blob; stored zstd-compressed.

A blob is written once (temp file in the same folder, fsync, rename, fsync of the folder) and never
rewritten: identical bytes are stored once. The local folder is the default; other backends (S3)
implement the same five methods. A group commit (storage/group_commit.py) writes many blobs with
`put_pending` and makes them durable together with `sync`, before their rows commit.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import zstandard

_LEVEL = 3


class ArchiveError(Exception):
    """A blob is missing, unreadable, or does not match its name."""


class BlobMissing(ArchiveError):
    """No stored blob by that name."""


class BlobTruncated(ArchiveError):
    """The stored blob ends before its compressed frame does."""


class BlobCorrupt(ArchiveError):
    """The stored blob does not decompress cleanly, or not to the bytes its name promises."""


@dataclass(frozen=True)
class PutResult:
    sha256: str
    size: int
    stored_size: int
    existed: bool


class BlobStore(Protocol):
    def put(self, data: bytes) -> PutResult: ...
    def get(self, sha256: str) -> bytes: ...
    def exists(self, sha256: str) -> bool: ...
    def stored_size(self, sha256: str) -> int: ...
    def iter_hashes(self) -> Iterator[str]: ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack(data: bytes) -> bytes:
    """The stored form of a blob: one zstd frame with its content size and a checksum."""
    packer = getattr(_packers, "zstd", None)
    if packer is None:  # one compressor a thread (making one costs as much as packing a page)
        packer = _packers.zstd = zstandard.ZstdCompressor(level=_LEVEL, write_checksum=True, write_content_size=True)
    return packer.compress(data)


_packers = threading.local()


def unpack(sha256: str, packed: bytes) -> bytes:
    """The raw bytes of a stored blob (zstd frame) checked against its name, or BlobTruncated /
    BlobCorrupt naming the fault."""
    dec = zstandard.ZstdDecompressor().decompressobj()
    try:
        data = dec.decompress(packed)
    except zstandard.ZstdError as exc:
        raise BlobCorrupt(f"blob {sha256} is corrupt: {exc}") from None
    if not dec.eof:
        raise BlobTruncated(f"blob {sha256} is truncated ({len(packed)} bytes stored, frame incomplete)")
    if dec.unused_data:
        raise BlobCorrupt(f"blob {sha256} is corrupt: {len(dec.unused_data)} stray bytes after the frame")
    digest = sha256_hex(data)
    if digest != sha256:
        raise BlobCorrupt(f"blob {sha256} is corrupt: its content hashes to {digest}")
    return data


_HEX64 = re.compile("[0-9a-f]{64}")


def _check_name(sha256: str) -> str:
    if not _HEX64.fullmatch(sha256):
        raise ArchiveError(f"not a sha256 hex digest: {sha256!r}")
    return sha256


class LocalBlobStore:
    """Blobs as `<root>/ab/cd/<sha256>.zst`."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._pending: dict[str, tuple[Path, Path, int]] = {}  # sha256 -> (temp file, name, stored size)
        self._folders = bytearray(1 << 16)  # 1 for each ab/cd folder known to exist (64 KB, however many blobs)
        self._lock = threading.Lock()  # put_pending (event loop) and sync (writer thread)

    def path(self, sha256: str) -> Path:
        _check_name(sha256)
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.zst"

    def exists(self, sha256: str) -> bool:
        return sha256 in self._pending or self.path(sha256).exists()

    def stored_size(self, sha256: str) -> int:
        """Bytes the blob takes in the store (compressed)."""
        if sha256 in self._pending:
            return self._pending[sha256][2]
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            raise BlobMissing(f"blob {sha256} is missing ({self.path(sha256)})") from None

    def put(self, data: bytes) -> PutResult:
        digest = sha256_hex(data)
        target = self.path(digest)
        if target.exists():
            return PutResult(digest, len(data), target.stat().st_size, True)
        packed = pack(data)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(packed)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return PutResult(digest, len(data), len(packed), False)

    def put_pending(self, data: bytes, digest: str | None = None) -> PutResult:
        """Write a blob without waiting for the disk: it takes its name only in `sync()`, which a group
        commit calls once for many blobs, before the rows that refer to them commit. `digest`: the
        sha256 of `data`, when the caller has it already."""
        digest = digest or sha256_hex(data)
        with self._lock:
            known = self._pending.get(digest)
        if known:
            return PutResult(digest, len(data), known[2], True)
        target = self.path(digest)
        if target.exists():
            return PutResult(digest, len(data), target.stat().st_size, True)
        packed = pack(data)
        folder = int(digest[:4], 16)
        if not self._folders[folder]:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders[folder] = 1
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(packed)
        with self._lock:
            if digest in self._pending:  # the same bytes, staged meanwhile by the other thread
                Path(tmp).unlink(missing_ok=True)
            else:
                self._pending[digest] = (Path(tmp), target, len(packed))
        return PutResult(digest, len(data), len(packed), False)

    def sync(self) -> None:
        """The pending blobs on disk under their names: each fsynced and renamed, then each folder
        fsynced once (what used to be two fsyncs per blob in the event loop, now once per batch)."""
        with self._lock:
            pending = list(self._pending.items())
        _fsync_all([tmp for _digest, (tmp, _target, _size) in pending])
        for _digest, (tmp, target, _size) in pending:
            os.replace(tmp, target)
        _fsync_all(list({target.parent for _d, (_t, target, _s) in pending}))
        with self._lock:
            for digest, _ in pending:
                del self._pending[digest]

    def get(self, sha256: str) -> bytes:
        with self._lock:
            known = self._pending.get(sha256)
        if known:
            return unpack(sha256, known[0].read_bytes())
        path = self.path(sha256)
        try:
            packed = path.read_bytes()
        except FileNotFoundError:
            raise BlobMissing(f"blob {sha256} is missing ({path})") from None
        return unpack(sha256, packed)

    def iter_hashes(self) -> Iterator[str]:
        for path in self.root.glob("??/??/*.zst"):
            yield path.stem


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_SYNC_THREADS = 8
_sync_pool: tuple[int, ThreadPoolExecutor] | None = None  # (the process it belongs to, the pool)


def _fsync_all(paths: list[Path]) -> None:
    """fsync each of `paths`, several at a time: the disk takes concurrent flushes together (on this
    kind of machine 8 at once cost ~0.8 ms each where one after another cost ~1.3-2.3 ms each)."""
    global _sync_pool
    if len(paths) < 2:
        for path in paths:
            _fsync_file(path)
        return
    if _sync_pool is None or _sync_pool[0] != os.getpid():  # a forked child has no threads of its own
        _sync_pool = (os.getpid(), ThreadPoolExecutor(_SYNC_THREADS, thread_name_prefix="blob-fsync"))
    for _ in _sync_pool[1].map(_fsync_file, paths):  # re-raises the first OSError
        pass


def _fsync_dir(path: Path) -> None:
    _fsync_file(path)  # a folder opens read-only like a file; fsync makes its entries durable


def open_archive(url: str, base_dir: Path | None = None) -> BlobStore:
    """`file://data/archive` (relative to base_dir), `file:///abs/path`, a plain path, or
    `s3://bucket/prefix` (storage/archive_s3.py; endpoint and credentials from the AWS environment)."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        raw = (parsed.netloc + parsed.path) if parsed.scheme else url
        path = Path(raw)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return LocalBlobStore(path)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ArchiveError(f"archive_url {url!r} names no bucket (use s3://BUCKET/PREFIX)")
        from storage.archive_s3 import S3BlobStore

        return S3BlobStore(parsed.netloc, parsed.path)
    raise ArchiveError(
        f"unsupported archive_url scheme {parsed.scheme!r} in {url!r} (use file://PATH or s3://BUCKET/PREFIX)"
    )
