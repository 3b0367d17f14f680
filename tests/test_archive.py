"""The content-addressed archive on both backends (a local folder; S3 over HTTP on a local moto
server): sha256 names, zstd, write-once, identical bytes once, every read checked against its name."""

import hashlib
from urllib.parse import urlparse

import pytest
import zstandard

from storage import archive as archive_module
from storage.archive import ArchiveError, BlobCorrupt, BlobMissing, BlobTruncated, LocalBlobStore, open_archive
from storage.archive_s3 import _EXISTS, S3BlobStore, _code


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalBlobStore(tmp_path / "a")
    return open_archive(request.getfixturevalue("s3_url"))


def overwrite_raw(store, sha256: str, raw: bytes) -> None:
    """Damage a stored blob behind the store's back (what a disk or bucket fault would do)."""
    if isinstance(store, LocalBlobStore):
        store.path(sha256).write_bytes(raw)
    else:
        store.client.put_object(Bucket=store.bucket, Key=store.key(sha256), Body=raw)


def remove_raw(store, sha256: str) -> None:
    if isinstance(store, LocalBlobStore):
        store.path(sha256).unlink()
    else:
        store.client.delete_object(Bucket=store.bucket, Key=store.key(sha256))


def test_put_get_roundtrip_and_dedupe(store, tmp_path):
    data = "开化县2024年法治政府建设年度报告".encode("gb18030") * 100
    first = store.put(data)
    assert first.sha256 == hashlib.sha256(data).hexdigest()
    assert not first.existed and first.size == len(data) and first.stored_size < len(data)
    assert store.exists(first.sha256) and not store.exists("0" * 64)
    assert store.stored_size(first.sha256) == first.stored_size
    assert store.get(first.sha256) == data
    again = store.put(data)
    assert again.existed and again.sha256 == first.sha256 and again.stored_size == first.stored_size
    assert list(store.iter_hashes()) == [first.sha256]
    assert not list(tmp_path.rglob(".tmp-*")), "no temp files left behind"


def test_empty_and_binary_bodies(store):
    for data in (b"", bytes(range(256)) * 50):
        assert store.get(store.put(data).sha256) == data
    assert len(set(store.iter_hashes())) == 2


def test_missing_and_corrupt_blobs_are_named(store):
    put = store.put(b"x" * 5000)
    packed = zstandard.ZstdCompressor(write_checksum=True).compress(b"x" * 5000)
    overwrite_raw(store, put.sha256, packed[:10])
    with pytest.raises(BlobTruncated, match="truncated"):
        store.get(put.sha256)
    flipped = bytearray(packed)
    flipped[len(packed) // 2] ^= 0x01
    overwrite_raw(store, put.sha256, bytes(flipped))
    with pytest.raises(BlobCorrupt, match="corrupt"):
        store.get(put.sha256)
    remove_raw(store, put.sha256)
    with pytest.raises(BlobMissing, match="missing"):
        store.get(put.sha256)
    with pytest.raises(BlobMissing, match="missing"):
        store.stored_size(put.sha256)
    with pytest.raises(ArchiveError, match="not a sha256"):
        store.get("../../etc/passwd")


def test_a_stored_blob_is_never_overwritten(store):
    data = b"<html>original</html>" * 40
    put = store.put(data)
    overwrite_raw(store, put.sha256, b"damaged")
    again = store.put(data)  # write-once: the damage is reported, never papered over
    assert again.existed
    with pytest.raises(ArchiveError, match="corrupt|truncated"):
        store.get(put.sha256)


def test_every_read_is_checked_against_its_name(store):
    put = store.put(b"x" * 5000)
    overwrite_raw(store, put.sha256, zstandard.ZstdCompressor(write_checksum=True).compress(b"y" * 5000))
    with pytest.raises(BlobCorrupt, match="hashes to"):
        store.get(put.sha256)


def test_open_archive_urls(tmp_path):
    assert isinstance(open_archive(f"file://{tmp_path}/x"), LocalBlobStore)
    rel = open_archive("file://rel/arch", base_dir=tmp_path)
    assert rel.root == tmp_path / "rel/arch"
    with pytest.raises(ArchiveError, match="unsupported archive_url scheme"):
        open_archive("gopher://x/y")
    with pytest.raises(ArchiveError, match="names no bucket"):
        open_archive("s3:///prefix")


def test_s3_archive_url_prefix_and_bucket_checks(s3_url):
    store = open_archive(s3_url)
    assert isinstance(store, S3BlobStore)
    bucket, prefix = urlparse(s3_url).netloc, urlparse(s3_url).path.strip("/")
    put = store.put(b"hello")
    assert store.key(put.sha256) == f"{prefix}/{put.sha256[:2]}/{put.sha256[2:4]}/{put.sha256}.zst"
    store.client.put_object(Bucket=bucket, Key="elsewhere/ab/cd/" + "a" * 64 + ".zst", Body=b"x")
    assert list(store.iter_hashes()) == [put.sha256], "only this prefix's blobs"
    assert list(open_archive(f"s3://{bucket}/other").iter_hashes()) == []
    # the guard that keeps racing writers from overwriting: the server refuses a second create
    with pytest.raises(store.client.exceptions.ClientError) as refused:
        store.client.put_object(Bucket=bucket, Key=store.key(put.sha256), Body=b"other", IfNoneMatch="*")
    assert _code(refused.value) in _EXISTS
    assert store.get(put.sha256) == b"hello"
    with pytest.raises(ArchiveError, match="bucket 'no-such-bucket' is not there"):
        open_archive("s3://no-such-bucket/x")


def test_s3_server_without_conditional_puts_still_works(s3_url):
    """Some S3-compatible servers answer 501 to `If-None-Match: *`: fall back to HEAD-then-PUT.
    (The server's refusal is stubbed at the HTTP-client level; moto supports conditional PUTs.)"""
    import boto3
    from botocore.stub import ANY, Stubber

    client = boto3.client("s3")
    bucket = urlparse(s3_url).netloc
    with Stubber(client) as stub:
        stub.add_response("head_bucket", {}, {"Bucket": bucket})
        store = S3BlobStore(bucket, "p", client=client)
        stub.add_client_error("head_object", "404", http_status_code=404)
        stub.add_client_error(
            "put_object",
            "NotImplemented",
            http_status_code=501,
            expected_params={
                "Bucket": bucket,
                "Key": ANY,
                "Body": ANY,
                "IfNoneMatch": "*",
                "ContentType": "application/zstd",
                "Metadata": ANY,
            },
        )
        stub.add_response(
            "put_object",
            {},
            {"Bucket": bucket, "Key": ANY, "Body": ANY, "ContentType": "application/zstd", "Metadata": ANY},
        )
        put = store.put(b"data")
        stub.assert_no_pending_responses()
    assert not put.existed and store.conditional is False


def fail_next_write(monkeypatch) -> None:
    """The local store's next temp file write fails (OSError "disk said no"); the ones after work."""
    from storage import archive

    write_temp = archive._write_temp

    def fail(folder, packed, fsync=True):
        monkeypatch.setattr(archive, "_write_temp", write_temp)
        raise OSError("disk said no")

    monkeypatch.setattr(archive, "_write_temp", fail)


def test_a_staged_blob_reaches_the_disk_only_with_its_journal_line(tmp_path, monkeypatch):
    """Staged blobs stay in memory until the group commit's sync: the journal's lines are written and
    fsynced first, then only the blobs those lines name (one staged meanwhile waits for a sync that
    has its line); a sync that fails keeps them staged, and the next one writes them."""
    from storage.journal import JournaledStore

    store = LocalBlobStore(tmp_path / "a")
    journal = JournaledStore(store, tmp_path / "run-1.journal")
    page = b"<html>one</html>" * 50
    first = journal.put(page)
    assert not first.existed and journal.exists(first.sha256) and journal.get(first.sha256) == page
    assert journal.stored_size(first.sha256) == first.stored_size
    assert journal.put(page).existed  # staged already: kept once
    assert not store.path(first.sha256).exists() and (tmp_path / "run-1.journal").read_text() == ""
    other = store.put_pending(b"staged with no journal line")
    journal.sync()
    assert store.path(first.sha256).exists() and not store.path(other.sha256).exists()
    assert (tmp_path / "run-1.journal").read_text().split() == [first.sha256, first.sha256]
    assert journal.put(page).existed and store.stored_size(first.sha256) == first.stored_size

    third = journal.put(b"<html>three</html>")
    fail_next_write(monkeypatch)
    with pytest.raises(OSError, match="disk said no"):
        journal.sync()
    assert not store.path(third.sha256).exists() and journal.get(third.sha256) == b"<html>three</html>"
    journal.close()  # the next sync writes it
    assert store.get(third.sha256) == b"<html>three</html>" and store.stored_size(third.sha256) == third.stored_size
    assert not store.path(other.sha256).exists()
    store.sync()  # every staged blob
    assert store.get(other.sha256) == b"staged with no journal line"
    assert sorted(store.iter_hashes()) == sorted([first.sha256, third.sha256, other.sha256])
    assert not list(tmp_path.rglob(".tmp-*")), "no temp files left behind"


def test_new_folders_are_made_durable_with_their_blobs(tmp_path, monkeypatch):
    """A blob's folder is fsynced after its rename, and a folder that gained a new folder too (also
    when the write that made it failed: the next write of the store fsyncs it)."""
    from storage import archive

    store = LocalBlobStore(tmp_path / "a")
    synced: list[str] = []
    fsync_file = archive._fsync_file
    monkeypatch.setattr(archive, "_fsync_file", lambda path: (synced.append(str(path)), fsync_file(path)))
    fail_next_write(monkeypatch)
    with pytest.raises(OSError, match="disk said no"):
        store.put(b"first")
    assert not synced and not list(store.iter_hashes())
    put = store.put(b"first")
    folder = store.path(put.sha256).parent
    assert sorted(synced) == sorted(map(str, (folder, folder.parent, store.root)))
    synced.clear()
    again = store.put_pending(b"first, then more")
    store.sync()
    second = store.path(again.sha256).parent
    made = [second, second.parent] + ([store.root] if second.parent != folder.parent else [])
    assert sorted(synced) == sorted(map(str, made))
    assert not list(tmp_path.rglob(".tmp-*"))


def test_a_sync_during_a_put_takes_its_line_and_its_blob_together(tmp_path, monkeypatch):
    """The group writer's sync can come while the event loop is between noting a blob and staging it:
    it then waits, and writes the line and the blob together (never the line alone: the blob's rows
    would commit without it)."""
    import threading
    import time

    from storage import archive
    from storage.journal import JournaledStore

    store = LocalBlobStore(tmp_path / "a")
    journal = JournaledStore(store, tmp_path / "run-1.journal")
    packing = threading.Event()
    real_pack = archive.pack

    def slow_pack(data):
        packing.set()
        time.sleep(0.2)
        return real_pack(data)

    monkeypatch.setattr(archive, "pack", slow_pack)
    putting = threading.Thread(target=journal.put, args=(b"<html>page</html>",))
    putting.start()
    assert packing.wait(5)
    journal.sync()
    putting.join()
    noted = (tmp_path / "run-1.journal").read_text().split()
    assert noted and all(store.path(sha).exists() for sha in noted)


@pytest.mark.skipif(archive_module._syncfs is None, reason="no syncfs(2) here")
def test_a_batch_of_blobs_is_made_durable_by_one_syncfs(tmp_path, monkeypatch):
    """Several staged blobs: written, renamed, then one syncfs of the filesystem (no fsync a file); a
    syncfs that fails raises, naming it, and keeps them staged for the next sync."""
    store = LocalBlobStore(tmp_path / "a")
    calls: list[str] = []
    fsyncs: list[int] = []
    real_syncfs, real_fsync = archive_module._syncfs, archive_module.os.fsync
    monkeypatch.setattr(archive_module, "_syncfs", lambda path: (calls.append(path), real_syncfs(path)))
    monkeypatch.setattr(archive_module.os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd)))
    puts = [store.put_pending(f"<html>{i}</html>".encode()) for i in range(10)]
    store.sync()
    assert calls == [str(store.root)] and not fsyncs
    assert all(store.get(p.sha256) == f"<html>{i}</html>".encode() for i, p in enumerate(puts))

    def refused(path):
        raise OSError(5, "syncfs of the archive's filesystem failed: Input/output error", path)

    monkeypatch.setattr(archive_module, "_syncfs", refused)
    more = [store.put_pending(f"<p>{i}</p>".encode()) for i in range(3)]
    with pytest.raises(OSError, match="syncfs of the archive's filesystem failed"):
        store.sync()
    assert all(p.sha256 in store._pending for p in more)  # still staged: the next sync writes them again
    monkeypatch.setattr(archive_module, "_syncfs", real_syncfs)
    store.sync()
    assert not store._pending and all(store.get(p.sha256) == f"<p>{i}</p>".encode() for i, p in enumerate(more))
    assert not list(tmp_path.rglob(".tmp-*"))


def test_the_journal_syncer_makes_staged_blobs_durable_as_they_come(tmp_path):
    """With its syncer running, blobs staged from several threads reach the disk with their lines
    without anyone calling sync; durable_upto(n) returns once lines up to n are durable; every line
    and blob is there at close, each line naming a stored blob."""
    import threading
    import time

    from storage.journal import JournaledStore

    store = LocalBlobStore(tmp_path / "a")
    journal = JournaledStore(store, tmp_path / "run-1.journal")
    journal.start_syncer()
    first = journal.put(b"<html>first</html>")
    deadline = time.monotonic() + 10
    while store._pending and time.monotonic() < deadline:
        time.sleep(0.01)
    assert store.path(first.sha256).exists() and journal._durable >= 1  # nobody called sync

    def stage(k: int) -> None:
        for i in range(50):
            put = journal.put(f"{k}-{i}".encode() * 30)
            if i % 10 == 9:
                journal.durable_upto(journal.staged_here())
                assert store.path(put.sha256).exists()

    threads = [threading.Thread(target=stage, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert journal.staged() == 201
    journal.close(keep=True)
    lines = (tmp_path / "run-1.journal").read_text().split()
    assert len(lines) == 201 and set(lines) == set(store.iter_hashes())
    assert not store._pending and not list(tmp_path.rglob(".tmp-*"))
