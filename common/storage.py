"""Where uploaded and generated files live. Nothing outside this module knows it is a local folder.

Files are addressed by a key (`uploads/2026/11/3f…9a.xlsx`), never by a server path, so the same
keys will work when an S3-compatible bucket replaces the folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from common.db import utcnow
from common.errors import BadInput, NotFound, TooLarge

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileEntry:
    key: str
    size: int
    modified_at: datetime  # UTC


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str
    head: bytes  # the first bytes, for type sniffing by magic numbers


class LocalStorage:
    """Files in a local directory, written atomically (temp file, fsync, rename)."""

    def __init__(self, root: Path):
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise NotFound("No existe ese archivo.", code="file_not_found")
        return path

    def new_key(self, prefix: str, suffix: str = "") -> str:
        now = utcnow()
        return f"{prefix}/{now:%Y/%m}/{secrets.token_hex(16)}{suffix}"

    def save_stream(self, stream: BinaryIO, *, key: str, max_bytes: int) -> StoredFile:
        """Copy `stream` to `key`, hashing on the way; refuses (and keeps nothing) past `max_bytes`."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        digest = hashlib.sha256()
        size = 0
        head = b""
        try:
            with open(tmp, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(
                            f"El archivo supera el límite de {max_bytes // (1024 * 1024)} MB. "
                            "Divídelo en archivos más pequeños o pide al administrador que suba MAX_UPLOAD_MB.",
                            code="upload_too_large",
                        )
                    if len(head) < 8192:
                        head += chunk[: 8192 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise BadInput("El archivo está vacío (0 bytes): elígelo de nuevo y vuelve a subirlo.", code="file_empty")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return StoredFile(key=key, size=size, sha256=digest.hexdigest(), head=head)

    def save_file(self, path: Path, *, key: str) -> StoredFile:
        """Store a file the process made (a report, an error list); no size cap applies."""
        with open(path, "rb") as handle:
            return self.save_stream(handle, key=key, max_bytes=max(path.stat().st_size, 1))

    def save_bytes(self, data: bytes, *, key: str) -> StoredFile:
        return self.save_stream(io.BytesIO(data), key=key, max_bytes=max(len(data), 1))

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        try:
            handle = open(self._path(key), "rb")
        except FileNotFoundError:
            raise NotFound("El archivo ya no está disponible.", code="file_gone") from None
        with handle:
            yield handle

    def local_path(self, key: str) -> Path:
        """A path a library that needs a real file can read (the file itself, for local storage)."""
        path = self._path(key)
        if not path.exists():
            raise NotFound("El archivo ya no está disponible.", code="file_gone")
        return path

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list_files(self, prefix: str) -> Iterator[FileEntry]:
        """Every file under `prefix` (a top folder such as `imports`), with its size and last change, in no order."""
        base = self._path(prefix)
        if not base.is_dir():
            return
        for path in base.rglob("*"):
            try:
                stat = path.stat()
            except FileNotFoundError:  # deleted while we walked
                continue
            if path.is_file():
                yield FileEntry(key=path.relative_to(self.root).as_posix(), size=stat.st_size,
                                modified_at=datetime.fromtimestamp(stat.st_mtime, UTC))


