"""The S3-compatible backend of `common.storage` (AWS S3, MinIO, Ceph, R2...), through boto3.

- Uploads stream: a file up to one part (`S3_PART_SIZE_MB`, 8 MiB) is one PUT; a bigger one is a
  multipart upload of parts that size. The size cap, the SHA-256 and the head bytes are computed on
  the way; an upload refused (too large, empty) or broken off is aborted, so nothing is kept.
- Reads stream too: `open` hands out the GET's body, `local_copy` downloads to a temporary file
  (for calamine, PDFium, PIL) that is deleted afterwards.
- An unreachable endpoint answers fast (short timeouts, one retry) and becomes `StorageUnavailable`:
  503 in a request, a retry in a job. A missing key is `file_gone` (404), as for local storage.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from common.errors import DomainError
from common.storage import (
    CHUNK,
    Digest,
    FileEntry,
    StorageUnavailable,
    StoredFile,
    WholeFiles,
    bad_key,
    empty_file,
    file_gone,
    new_key,
)

if TYPE_CHECKING:
    from common.config import Settings

log = logging.getLogger(__name__)

# an outage must answer in seconds, not after botocore's default 60 s timeouts and 5 attempts
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 20
MAX_ATTEMPTS = 2
_MISSING = {"NoSuchKey", "404", "NotFound"}


def make_client(settings: Settings) -> Any:
    """A boto3 S3 client for the configured endpoint, region and credentials."""
    credentials: dict[str, str] = {}
    key = settings.s3_access_key_id or settings.s3_access_key_id_file
    if key is not None:
        credentials = {
            "aws_access_key_id": _secret("S3_ACCESS_KEY_ID", settings.s3_access_key_id, settings.s3_access_key_id_file),
            "aws_secret_access_key": _secret(
                "S3_SECRET_ACCESS_KEY", settings.s3_secret_access_key, settings.s3_secret_access_key_file
            ),
        }
    config = Config(
        region_name=settings.s3_region,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        signature_version="s3v4",
        # a custom endpoint (MinIO, moto) seldom has a DNS name per bucket
        s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
        # S3-compatible servers vary in the newer default checksums: send and check them only where S3 requires them
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client("s3", endpoint_url=settings.s3_endpoint_url, config=config, **credentials)


def _secret(name: str, value, path: Path | None) -> str:
    """The configured value, else the file's (read when the storage is built: compose generates it first)."""
    if value is not None and value.get_secret_value():
        return value.get_secret_value()
    if path is None:
        return ""
    try:
        secret = path.read_text().strip()
    except OSError as exc:
        raise SystemExit(f"timon: bad configuration: {name}_FILE: cannot read {path} ({exc.strerror})") from None
    if not secret:
        raise SystemExit(f"timon: bad configuration: {name}_FILE: {path} is empty")
    return secret


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _translated(what: str, key: str = "") -> Iterator[None]:
    """botocore's errors as ours: a missing key is file_gone, anything else from the bucket is unavailable."""
    try:
        yield
    except DomainError:
        raise
    except ClientError as exc:
        if _error_code(exc) in _MISSING:
            raise file_gone() from None
        log.warning("storage: %s %s refused: %s", what, key, exc)
        raise StorageUnavailable() from exc
    except BotoCoreError as exc:
        log.warning("storage: %s %s failed: %r", what, key, exc)
        raise StorageUnavailable() from exc


class S3Storage(WholeFiles):
    """Files as objects in one bucket, under an optional key prefix."""

    def __init__(self, *, client: Any, bucket: str, prefix: str = "", part_size: int = 8 * 1024 * 1024):
        if part_size < 5 * 1024 * 1024:
            raise ValueError("S3 parts are at least 5 MiB")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _object(self, key: str) -> str:
        parts = PurePosixPath(key).parts
        if not key or key.startswith("/") or "\\" in key or any(p in ("..", ".") for p in parts) or "\x00" in key:
            raise bad_key()
        return f"{self.prefix}{key}"

    def new_key(self, prefix: str, suffix: str = "") -> str:
        return new_key(prefix, suffix)

    def save_stream(self, stream: BinaryIO, *, key: str, max_bytes: int) -> StoredFile:
        name = self._object(key)
        digest = Digest(max_bytes)
        first = self._read_part(stream, digest)
        if not first:
            raise empty_file()
        if len(first) < self.part_size:  # the whole file fits in one request
            with _translated("put", key):
                self.client.put_object(Bucket=self.bucket, Key=name, Body=first)
            return digest.stored(key)
        with _translated("start multipart upload of", key):
            upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=name)["UploadId"]
        try:
            parts = []
            part = first
            while part:
                number = len(parts) + 1
                with _translated("upload part of", key):
                    answer = self.client.upload_part(
                        Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=part
                    )
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                part = self._read_part(stream, digest)
            with _translated("complete multipart upload of", key):
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=name, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            self._abort(name, upload_id)
            raise
        return digest.stored(key)

    def _read_part(self, stream: BinaryIO, digest: Digest) -> bytearray:
        """Up to one part of the stream, counted (and capped) as it is read; botocore sends it as is."""
        buffer = bytearray()
        while len(buffer) < self.part_size:
            chunk = stream.read(min(CHUNK, self.part_size - len(buffer)))
            if not chunk:
                break
            digest.add(chunk)
            buffer += chunk
        return buffer

    def _abort(self, name: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
        except (ClientError, BotoCoreError):  # the bucket's lifecycle rule for incomplete uploads is the backstop
            log.warning("storage: could not abort the multipart upload %s of %s", upload_id, name, exc_info=True)

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        with _translated("get", key):
            body = self.client.get_object(Bucket=self.bucket, Key=self._object(key))["Body"]
        try:
            yield _Reader(body, key)
        finally:
            body.close()

    def size(self, key: str) -> int:
        with _translated("head", key):
            return int(self.client.head_object(Bucket=self.bucket, Key=self._object(key))["ContentLength"])

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """A temporary copy (keeping the key's extension: some readers go by it), deleted afterwards."""
        fd, name = tempfile.mkstemp(prefix="timon-", suffix=PurePosixPath(key).suffix[:10])
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out, self.open(key) as source:
                shutil.copyfileobj(source, out, CHUNK)
            yield path
        finally:
            path.unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        with _translated("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=self._object(key))

    def list_files(self, prefix: str) -> Iterator[FileEntry]:
        """Every object under `prefix` (a top folder such as `imports`), with its size and last change, in no order."""
        name = self._object(prefix).rstrip("/") + "/"
        with _translated("list", prefix):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=name):
                for item in page.get("Contents", ()):
                    yield FileEntry(key=item["Key"][len(self.prefix):], size=item["Size"],
                                    modified_at=item["LastModified"].astimezone(UTC))

    def ensure_bucket(self) -> bool:
        """Create the bucket if it does not exist; True when it was created now."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return False
        except ClientError as exc:
            if _error_code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
                log.error("storage: bucket %s: %s", self.bucket, exc)
                raise StorageUnavailable() from exc
        except BotoCoreError as exc:
            log.error("storage: bucket %s unreachable: %r", self.bucket, exc)
            raise StorageUnavailable() from exc
        region = self.client.meta.region_name
        extra = {} if region in (None, "us-east-1") else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        with _translated("create bucket", self.bucket):
            try:
                self.client.create_bucket(Bucket=self.bucket, **extra)
            except ClientError as exc:
                if _error_code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise
                return False
        return True


class _Reader(io.RawIOBase):
    """A GET's streaming body as a file object whose read errors are ours (StorageUnavailable)."""

    def __init__(self, body: Any, key: str):
        self._body = body
        self._key = key

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        with _translated("read", self._key):
            return self._body.read(None if size is None or size < 0 else size)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
