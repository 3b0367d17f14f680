"""The content-addressed raw archive: sha256 of the raw bytes names the blob; stored zstd-compressed.

A blob is written once (temp file in the same folder, fsync, rename, fsync of the folder) and never
rewritten: identical bytes are stored once. On Linux a batch of blobs is made durable by one syncfs(2) of
the archive's filesystem after all are written and renamed, instead of two fsyncs a blob. The local
folder is the default; other backends (S3) implement the same five methods. A group commit
(storage/group_commit.py) writes many blobs with `put_pending` and makes them durable together with
`sync`, before their rows commit.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
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
        self._root = str(self.root)
        self._pending: dict[str, tuple[bytes, str]] = {}  # sha256 -> (its stored form, its file name)
        self._folders = bytearray(1 << 16)  # 1 for each ab/cd folder known to exist (64 KB, however many blobs)
        self._made: set[str] = set()  # folders that gained a folder, not fsynced since
        self._lock = threading.Lock()  # put_pending (event loop) and sync (writer thread)

    def path(self, sha256: str) -> Path:
        return Path(self._name(sha256))

    def _name(self, sha256: str) -> str:
        _check_name(sha256)
        return f"{self._root}/{sha256[:2]}/{sha256[2:4]}/{sha256}.zst"

    def exists(self, sha256: str) -> bool:
        return sha256 in self._pending or os.path.exists(self._name(sha256))

    def stored_size(self, sha256: str) -> int:
        """Bytes the blob takes in the store (compressed)."""
        known = self._pending.get(sha256)
        if known:
            return len(known[0])
        size = self._stored(self._name(sha256))
        if size is None:
            raise BlobMissing(f"blob {sha256} is missing ({self.path(sha256)})")
        return size

    def _stored(self, name: str) -> int | None:
        """The stored size of the blob file `name`, None when there is none."""
        try:
            return os.stat(name).st_size
        except FileNotFoundError:
            return None

    def put(self, data: bytes) -> PutResult:
        digest = sha256_hex(data)
        name = self._name(digest)
        size = self._stored(name)
        if size is not None:
            return PutResult(digest, len(data), size, True)
        packed = pack(data)
        self._write([(packed, name)])
        return PutResult(digest, len(data), len(packed), False)

    def put_pending(self, data: bytes, digest: str | None = None) -> PutResult:
        """Stage a blob without touching the disk: it is written, fsynced and takes its name in
        `sync()`, which a group commit calls once for many blobs (in its own thread), before the rows
        that refer to them commit. `digest`: the sha256 of `data`, when the caller has it already."""
        digest = digest or sha256_hex(data)
        known = self._pending.get(digest)
        if known:
            return PutResult(digest, len(data), len(known[0]), True)
        name = self._name(digest)
        size = self._stored(name)
        if size is not None:
            return PutResult(digest, len(data), size, True)
        packed = pack(data)
        with self._lock:
            known = self._pending.setdefault(digest, (packed, name))  # the same bytes staged meanwhile: kept once
        return PutResult(digest, len(data), len(known[0]), known[0] is not packed)

    def sync(self, only: Collection[str] | None = None) -> None:
        """The staged blobs (`only` those named there) on disk under their names, durable: each
        written to a temp file and fsynced, all renamed, then each folder fsynced once (once per batch
        for many blobs). A blob stays staged until a sync of it succeeds."""
        with self._lock:
            if only is None:
                pending = list(self._pending.items())
            else:
                pending = [(d, self._pending[d]) for d in only if d in self._pending]
        if not pending:
            return
        self._write([item for _digest, item in pending])
        with self._lock:
            for digest, _ in pending:
                del self._pending[digest]

    def _write(self, blobs: list[tuple[bytes, str]]) -> None:
        """Each (stored form, file name) written whole and durable: temp files written and fsynced
        (several at a time), renamed to their names, then their folders fsynced (and the folders
        that hold new folders). Several blobs where syncfs(2) exists: written and renamed, then one
        syncfs makes the files, their names and new folders durable."""
        folders: dict[str, None] = {}  # the folders whose entries change, in order
        for _packed, name in blobs:
            folder, _, file = name.rpartition("/")
            if folder not in folders:
                folders[folder] = None
                self._make_folder(folder, file[:4])
        with self._lock:
            made = list(self._made)  # folders that gained a folder (until fsynced, by this write or another)
        folders.update(dict.fromkeys(made))
        temps: list[str | None] = [None] * len(blobs)
        syncfs = _syncfs if len(blobs) > 1 else None
        batch = syncfs is not None

        def write(i: int) -> None:
            packed, name = blobs[i]
            folder = name.rpartition("/")[0]
            try:
                temps[i] = _write_temp(folder, packed, fsync=not batch)
            except FileNotFoundError:  # its folder was removed since it was made: made again, durably
                os.makedirs(folder, exist_ok=True)
                _fsync_file(os.path.dirname(folder))
                _fsync_file(self._root)
                temps[i] = _write_temp(folder, packed, fsync=not batch)

        try:
            if batch:
                for i in range(len(blobs)):
                    write(i)
            else:
                _each(write, range(len(blobs)))
            for i, (_packed, name) in enumerate(blobs):  # (after a failure they stay staged: one renamed
                os.replace(temps[i], name)  # here is written again, the same bytes, and its folder fsynced)
                temps[i] = None
        finally:
            for temp in temps:
                if temp is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(temp)
        if syncfs is not None:
            syncfs(self._root)
        else:
            _each(_fsync_file, list(folders))
        with self._lock:
            self._made.difference_update(made)

    def _make_folder(self, folder: str, abcd: str) -> None:
        """Make sure `folder` (<root>/ab/cd) exists; a folder that gains an entry making it is noted
        in `_made` until a write fsyncs it."""
        key = int(abcd, 16)
        if self._folders[key]:
            return
        parent = folder[:-3]
        try:
            os.mkdir(folder)
            made = [parent]
        except FileNotFoundError:
            made = []
            with contextlib.suppress(FileExistsError):
                os.mkdir(parent)
                made.append(self._root)
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder)
                made.append(parent)
        except FileExistsError:
            made = []
        with self._lock:
            self._made.update(made)
        self._folders[key] = 1

    def get(self, sha256: str) -> bytes:
        known = self._pending.get(sha256)
        if known:
            return unpack(sha256, known[0])
        path = self._name(sha256)
        try:
            with open(path, "rb") as fh:
                packed = fh.read()
        except FileNotFoundError:
            raise BlobMissing(f"blob {sha256} is missing ({path})") from None
        return unpack(sha256, packed)

    def iter_hashes(self) -> Iterator[str]:
        for path in self.root.glob("??/??/*.zst"):
            yield path.stem


_temps = itertools.count()


def _write_temp(folder: str, packed: bytes, fsync: bool = True) -> str:
    """`packed` in a new temp file of `folder`, fsynced (unless a syncfs follows); its name. The name
    is this process's and a counter's (created exclusively: a leftover of a dead process with the same
    id is stepped over)."""
    for _ in range(100):
        temp = f"{folder}/.tmp-{os.getpid()}-{next(_temps)}"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        break
    else:
        fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        view = memoryview(packed)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(temp)
        raise
    os.close(fd)
    return temp


def _fsync_file(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _load_syncfs() -> Callable[[str], None] | None:
    """syncfs(2) where the C library has it (Linux): every dirty file and directory entry of one
    filesystem written and flushed, its errors reported (Linux >= 5.8). None elsewhere."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        call = libc.syncfs
    except (OSError, AttributeError):
        return None

    def syncfs(path: str) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            if call(fd) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"syncfs of the archive's filesystem failed: {os.strerror(err)}", path)
        finally:
            os.close(fd)

    return syncfs


_syncfs = _load_syncfs()
_SYNC_THREADS = 8
_sync_pool: tuple[int, ThreadPoolExecutor] | None = None  # (the process it belongs to, the pool)


def _each(fn: Callable[[Any], None], items: Iterable[Any]) -> None:
    """fn(item) for each item, several at a time: the disk takes concurrent flushes together (on this
    kind of machine 8 at once cost ~0.8 ms each where one after another cost ~1.3-2.3 ms each).
    Raises the first error, after every call has ended."""
    global _sync_pool
    items = list(items)
    if len(items) < 2:
        for item in items:
            fn(item)
        return
    if _sync_pool is None or _sync_pool[0] != os.getpid():  # a forked child has no threads of its own
        _sync_pool = (os.getpid(), ThreadPoolExecutor(_SYNC_THREADS, thread_name_prefix="blob-fsync"))
    futures = [_sync_pool[1].submit(fn, item) for item in items]
    for future in futures:
        future.exception()  # every call ended before one raises (the caller cleans up after them)
    for future in futures:
        future.result()


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
