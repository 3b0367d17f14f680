"""The content-addressed archive: sha256 names, zstd, write-once, atomic, identical bytes once."""
import hashlib

import pytest

from storage.archive import ArchiveError, BlobCorrupt, BlobMissing, BlobTruncated, LocalBlobStore, open_archive


def test_put_get_roundtrip_and_dedupe(tmp_path):
    store = LocalBlobStore(tmp_path / "a")
    data = "开化县2024年法治政府建设年度报告".encode("gb18030") * 100
    first = store.put(data)
    assert first.sha256 == hashlib.sha256(data).hexdigest()
    assert not first.existed and first.size == len(data) and first.stored_size < len(data)
    assert store.get(first.sha256) == data
    again = store.put(data)
    assert again.existed and again.sha256 == first.sha256
    assert list(store.iter_hashes()) == [first.sha256]
    assert not list((tmp_path / "a").rglob(".tmp-*")), "no temp files left behind"


def test_empty_and_binary_bodies(tmp_path):
    store = LocalBlobStore(tmp_path)
    for data in (b"", bytes(range(256)) * 50):
        assert store.get(store.put(data).sha256) == data


def test_missing_and_corrupt_blobs_are_named(tmp_path):
    store = LocalBlobStore(tmp_path)
    put = store.put(b"x" * 5000)
    path = store.path(put.sha256)
    packed = path.read_bytes()
    path.write_bytes(packed[:10])
    with pytest.raises(BlobTruncated, match="truncated"):
        store.get(put.sha256)
    flipped = bytearray(packed)
    flipped[len(packed) // 2] ^= 0x01
    path.write_bytes(bytes(flipped))
    with pytest.raises(BlobCorrupt, match="corrupt"):
        store.get(put.sha256)
    path.unlink()
    with pytest.raises(BlobMissing, match="missing"):
        store.get(put.sha256)
    with pytest.raises(ArchiveError, match="not a sha256"):
        store.get("../../etc/passwd")


def test_open_archive_urls(tmp_path):
    assert isinstance(open_archive(f"file://{tmp_path}/x"), LocalBlobStore)
    rel = open_archive("file://rel/arch", base_dir=tmp_path)
    assert rel.root == tmp_path / "rel/arch"
    with pytest.raises(ArchiveError, match="unsupported archive_url scheme"):
        open_archive("gopher://x/y")
