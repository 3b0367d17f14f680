"""A write-ahead note of the blobs a run is about to write, so a crash between the blob and its rows
(archive-first leaves that window) is mended: the next run adopts the blob into the blobs table.

One journal file per run (`run-<id>.journal`, one sha256 a line); removed when the run ends.

Lines (and their pending blobs) are numbered as they are staged. A syncer thread makes them durable as
they come, in groups, so a group commit's writer usually finds its batch durable already
(`durable_upto`) and spends its time on SQL: the fsyncs of one batch overlap the SQL of the one before.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from loguru import logger
from sqlalchemy.engine import Engine

from storage.archive import ArchiveError, BlobStore, PutResult, sha256_hex
from storage.captures import _insert_ignore
from storage.db import session
from storage.models import Blob, CrawlRun, utcnow


class JournaledStore:
    """A BlobStore that notes each sha256 in the run's journal before writing the blob."""

    def __init__(self, store: BlobStore, path: Path):
        self.store, self.path = store, path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._unsynced = False  # lines written since the last fsync
        self._pending = getattr(store, "put_pending", None)  # a store that writes blobs only in its sync()
        self._lines: list[str] = []  # with such a store: lines not written yet (their blobs are not either)
        self._lock = threading.Lock()  # put (event loop) and sync (writer thread)
        self._noted: set[str] = set()  # lines on disk whose blobs may not be yet (a store sync failed)
        self._staged = 0  # lines staged so far (numbered 1, 2, ...)
        self._durable = 0  # lines up to this number are durable, and their blobs
        self._syncing = threading.Lock()  # one sync at a time (the syncer's or a writer's)
        self._mine = threading.local()  # .seq: the last line the calling thread staged
        self._wake = threading.Event()  # lines staged since the syncer last looked
        self._stop = False
        self._syncer: threading.Thread | None = None

    def put(self, data: bytes) -> PutResult:
        """Noted, then written; durable (journal first, then the blob) once `sync()` returns."""
        digest = sha256_hex(data)
        if self._pending is None:  # the blob is written now: its line first
            with self._lock:
                os.write(self._fd, (digest + "\n").encode())
                self._unsynced = True
                self._staged += 1
                self._mine.seq = self._staged
            return self.store.put(data)
        with self._lock:  # noted and staged at once: a sync takes both the line and the blob, or neither
            self._lines.append(digest)
            self._staged += 1
            self._mine.seq = self._staged
            put = self._pending(data, digest)
        if self._syncer is not None:
            self._wake.set()
        return put

    def staged(self) -> int:
        """The number of the last line staged (by any thread)."""
        return self._staged

    def staged_here(self) -> int:
        """The number of the last line the calling thread staged (0: none)."""
        return getattr(self._mine, "seq", 0)

    def durable_upto(self, seq: int) -> None:
        """Lines up to `seq`, and every line the calling thread staged, durable with their blobs: at once
        when the syncer got there already, else after its sync in progress, or by a sync of our own."""
        seq = max(seq, self.staged_here())
        if self._durable >= seq:
            return
        with self._syncing:
            if self._durable < seq:
                self._sync()

    def start_syncer(self) -> None:
        """Make staged lines and blobs durable from now on as they come, in a thread of their own."""
        if self._syncer is None and self._pending is not None:
            self._syncer = threading.Thread(target=self._sync_loop, name="journal-sync", daemon=True)
            self._syncer.start()

    def _sync_loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stop:
                return
            try:
                with self._syncing:
                    if self._durable < self._staged:
                        self._sync()
            except Exception as exc:  # noqa: BLE001 - the writer syncs itself and meets the error there
                logger.debug("journal syncer: {} (the group writer syncs these itself)", exc)
                time.sleep(0.2)

    def sync(self) -> None:
        """The journal lines, then their blobs, durable (the journal is written and fsynced only when
        lines came since). Only blobs whose lines are on disk are written: one staged meanwhile waits
        for the next sync, with its line."""
        with self._syncing:
            self._sync()

    def _sync(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
            upto = self._staged
        try:
            if lines:
                data = ("\n".join(lines) + "\n").encode()
                while data:
                    data = data[os.write(self._fd, data) :]
                self._unsynced = True
            if self._unsynced:
                self._unsynced = False
                os.fsync(self._fd)
        except BaseException:  # noted again at the next sync (a line twice is harmless)
            with self._lock:
                self._lines[:0] = lines
            self._unsynced = True
            raise
        if self._pending is not None:
            self._noted.update(lines)
            if self._noted:
                self.store.sync(self._noted)
                self._noted.clear()
        else:
            sync = getattr(self.store, "sync", None)
            if sync:
                sync()
        self._durable = max(self._durable, upto)

    def get(self, sha256: str) -> bytes:
        return self.store.get(sha256)

    def exists(self, sha256: str) -> bool:
        return self.store.exists(sha256)

    def stored_size(self, sha256: str) -> int:
        return self.store.stored_size(sha256)

    def iter_hashes(self) -> Iterator[str]:
        return self.store.iter_hashes()

    def close(self, keep: bool = False) -> None:
        """Done. `keep` the journal when a batch may have left blobs without rows (its commit failed):
        then `adopt` (now, or the next run's `recover`) mends them."""
        if self._syncer is not None:
            self._stop = True
            self._wake.set()
            self._syncer.join()
            self._syncer = None
        self.sync()
        os.close(self._fd)
        if not keep:
            self.path.unlink(missing_ok=True)


def recover(engine: Engine, store: BlobStore, folder: Path) -> int:
    """Adopt the blobs noted by runs that are no longer running (their process died). Returns count."""
    adopted = sum(
        adopt(engine, store, path) for path in (sorted(folder.glob("run-*.journal")) if folder.is_dir() else [])
    )
    if adopted:
        logger.warning("adopted {} archived blobs left without rows by an interrupted run", adopted)
    return adopted


def adopt(engine: Engine, store: BlobStore, path: Path) -> int:
    """Adopt the blobs of one journal unless its run is still running; then remove it."""
    run_id = int(path.stem.split("-")[1])
    adopted = 0
    with session(engine) as s:
        run = s.get(CrawlRun, run_id)
        if run is not None and run.status == "running":
            return 0
        try:
            noted = set(path.read_text().split())
        except FileNotFoundError:  # its run just ended, or another process mended it first
            return 0
        for sha in noted:
            if len(sha) != 64 or s.get(Blob, sha) is not None or not store.exists(sha):
                continue
            try:
                data = store.get(sha)
            except ArchiveError as exc:
                logger.warning("journal of run {}: blob {} unreadable, left for verify: {}", run_id, sha, exc)
                continue
            _insert_ignore(
                s,
                Blob.__table__,
                {"sha256": sha, "size": len(data), "stored_size": store.stored_size(sha), "created_at": utcnow()},
            )
            adopted += 1
        s.commit()
    path.unlink(missing_ok=True)
    return adopted
