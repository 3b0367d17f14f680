"""The content-addressed archive on S3-compatible storage (AWS S3, MinIO, moto …).

Same semantics as the local folder: keys `<prefix>/ab/cd/<sha256>.zst`, zstd with a checksum,
written once (a conditional `If-None-Match: *` PUT never replaces an existing object), and every
read is checked against its name. Endpoint and credentials come from the standard AWS environment
(AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from loguru import logger

from storage.archive import ArchiveError, BlobMissing, PutResult, _check_name, pack, sha256_hex, unpack

_KEY = re.compile(r"(?:^|/)[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})\.zst$")
_ABSENT = {"404", "NoSuchKey", "NotFound"}
_EXISTS = {"412", "PreconditionFailed", "409", "ConditionalRequestConflict"}
_UNSUPPORTED = {"501", "NotImplemented"}


def _code(exc) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class S3BlobStore:
    """Blobs as objects `s3://<bucket>/<prefix>/ab/cd/<sha256>.zst`."""

    def __init__(self, bucket: str, prefix: str = "", client=None):
        try:
            import boto3
            from botocore.config import Config as BotoConfig
        except ImportError:
            raise ArchiveError("an s3:// archive needs boto3: pip install 'xxgk-archive[s3]'") from None
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.conditional = True  # If-None-Match: * on PUT (off if the server lacks it)
        self.client = client or boto3.client(
            "s3",
            region_name=os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            config=BotoConfig(retries={"max_attempts": 5, "mode": "standard"}),
        )
        self._errors = self.client.exceptions.ClientError
        try:
            self.client.head_bucket(Bucket=bucket)
        except self._errors as exc:
            raise ArchiveError(
                f"S3 bucket {bucket!r} is not there or not ours at "
                f"{self.client.meta.endpoint_url} ({_code(exc) or exc}); create it first"
            ) from None
        except Exception as exc:  # noqa: BLE001 - connection refused, bad endpoint, no credentials …
            raise ArchiveError(
                f"S3 endpoint {self.client.meta.endpoint_url} unreachable for bucket {bucket!r}: {exc}"
            ) from None

    def key(self, sha256: str) -> str:
        _check_name(sha256)
        name = f"{sha256[:2]}/{sha256[2:4]}/{sha256}.zst"
        return f"{self.prefix}/{name}" if self.prefix else name

    def exists(self, sha256: str) -> bool:
        return self._head(self.key(sha256)) is not None

    def stored_size(self, sha256: str) -> int:
        head = self._head(self.key(sha256))
        if head is None:
            raise BlobMissing(f"blob {sha256} is missing (s3://{self.bucket}/{self.key(sha256)})")
        return head["ContentLength"]

    def _head(self, key: str):
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except self._errors as exc:
            if _code(exc) in _ABSENT:
                return None
            raise ArchiveError(f"S3 HEAD {key}: {exc}") from None

    def put(self, data: bytes) -> PutResult:
        digest = sha256_hex(data)
        key = self.key(digest)
        head = self._head(key)
        if head is not None:
            return PutResult(digest, len(data), head["ContentLength"], True)
        packed = pack(data)
        try:  # write-once even when two writers race: the second PUT is refused, never overwrites
            self._put(key, packed, digest)
        except self._errors as exc:
            if _code(exc) in _EXISTS:
                return PutResult(digest, len(data), len(packed), True)
            raise ArchiveError(f"S3 PUT {key}: {exc}") from None
        return PutResult(digest, len(data), len(packed), False)

    def _put(self, key: str, packed: bytes, digest: str) -> None:
        extra = {"IfNoneMatch": "*"} if self.conditional else {}
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=packed,
                ContentType="application/zstd",
                Metadata={"sha256": digest},
                **extra,
            )
        except self._errors as exc:
            if not (self.conditional and _code(exc) in _UNSUPPORTED):
                raise
            # A server without conditional writes: the HEAD above is the only guard (identical bytes
            # under a content-addressed name, so a racing writer can only write the same blob).
            logger.warning(
                "S3 endpoint {} refuses conditional PUTs ({}); relying on HEAD before PUT",
                self.client.meta.endpoint_url,
                _code(exc),
            )
            self.conditional = False
            self._put(key, packed, digest)

    def get(self, sha256: str) -> bytes:
        key = self.key(sha256)
        try:
            packed = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self._errors as exc:
            if _code(exc) in _ABSENT:
                raise BlobMissing(f"blob {sha256} is missing (s3://{self.bucket}/{key})") from None
            raise ArchiveError(f"S3 GET {key}: {exc}") from None
        return unpack(sha256, packed)

    def iter_hashes(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""
        )
        for page in pages:
            for obj in page.get("Contents", []):
                m = _KEY.search(obj["Key"])
                if m:
                    yield m.group(1)
