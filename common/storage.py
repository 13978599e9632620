"""Where uploaded and generated files live: a local folder or an S3-compatible bucket.

Files are addressed by a key (`uploads/2026/11/3f…9a.xlsx`), never by a server path. Routes and
tasks get a `Storage` (built once per process by `build_storage`, from `STORAGE_URL`) and never
know which backend it is: they save streams, open keys for reading, borrow a local copy for a
library that needs a path (`local_copy`), and delete.

`python -m common.storage ensure-bucket` creates the configured bucket if it is missing (compose's
`init` one-shot runs it); for the local folder it only creates the folder.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol
from urllib.parse import urlsplit

from common.db import utcnow
from common.errors import BadInput, NotFound, ServiceUnavailable, TooLarge

if TYPE_CHECKING:
    from common.config import Settings

CHUNK = 1024 * 1024
HEAD_BYTES = 8192  # the first bytes every save returns, for type sniffing by magic numbers


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


class StorageUnavailable(ServiceUnavailable):
    """The bucket (or its endpoint) did not answer, or refused us: 503 for a request, a retry for a job."""

    default_code = "storage_unavailable"

    def __init__(self, message: str = "El almacenamiento de archivos no responde ahora mismo. Inténtalo de nuevo en unos "
                 "momentos; si se repite, avisa al administrador.", *, code: str | None = None):
        super().__init__(message, code=code, retry_after=10)


class StorageFull(StorageUnavailable):
    """The storage folder's disk (or quota) is full: 507 for a request, a retry for a job (space may be freed)."""

    status_code = 507  # Insufficient Storage (RFC 4918): the server, not the file, is the problem
    default_code = "storage_full"

    def __init__(self) -> None:
        super().__init__("No queda espacio en el disco donde se guardan los archivos, así que no se ha guardado "
                         "nada. Avisa al administrador para que libere espacio y vuelve a subir el archivo.")


_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def file_gone() -> NotFound:
    return NotFound("El archivo ya no está disponible.", code="file_gone")


def bad_key() -> NotFound:
    return NotFound("No existe ese archivo.", code="file_not_found")


def too_large(max_bytes: int) -> TooLarge:
    return TooLarge(
        f"El archivo supera el límite de {max_bytes // (1024 * 1024)} MB. "
        "Divídelo en archivos más pequeños o pide al administrador que suba MAX_UPLOAD_MB.",
        code="upload_too_large",
    )


def empty_file() -> BadInput:
    return BadInput("El archivo está vacío (0 bytes): elígelo de nuevo y vuelve a subirlo.", code="file_empty")


def new_key(prefix: str, suffix: str = "") -> str:
    """A fresh random key under `prefix/YYYY/MM/`."""
    now = utcnow()
    return f"{prefix}/{now:%Y/%m}/{secrets.token_hex(16)}{suffix}"


class Storage(Protocol):
    """What routes and tasks may do with files; `LocalStorage` and `S3Storage` both are one."""

    def new_key(self, prefix: str, suffix: str = "") -> str: ...

    def save_stream(self, stream: BinaryIO, *, key: str, max_bytes: int) -> StoredFile:
        """Copy `stream` to `key`, hashing on the way; refuses (and keeps nothing) past `max_bytes` or when empty."""
        ...

    def save_file(self, path: Path, *, key: str) -> StoredFile:
        """Store a file the process made (a report, an error list); no size cap applies."""
        ...

    def save_bytes(self, data: bytes, *, key: str) -> StoredFile: ...

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """The file for reading; NotFound (`file_gone`) when it is not there."""
        ...

    def size(self, key: str) -> int:
        """Its size in bytes; NotFound (`file_gone`) when it is not there."""
        ...

    def local_copy(self, key: str) -> AbstractContextManager[Path]:
        """A real file a library can read (the file itself, or a temporary copy deleted afterwards)."""
        ...

    def delete(self, key: str) -> None:
        """Remove the file; a key that is already gone is fine."""
        ...

    def list_files(self, prefix: str) -> Iterator[FileEntry]:
        """Every file under `prefix` (a top folder such as `imports`), with its size and last change, in no order."""
        ...


class Digest:
    """Size, SHA-256 and head bytes of a stream, counted chunk by chunk, with the size cap."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.head = b""
        self._sha = hashlib.sha256()

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise too_large(self.max_bytes)
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self._sha.update(chunk)

    def stored(self, key: str) -> StoredFile:
        return StoredFile(key=key, size=self.size, sha256=self._sha.hexdigest(), head=self.head)


class WholeFiles:
    """save_file and save_bytes, for a backend that has save_stream: what the process made, no size cap."""

    def save_file(self, path: Path, *, key: str) -> StoredFile:
        with open(path, "rb") as handle:
            return self.save_stream(handle, key=key, max_bytes=max(path.stat().st_size, 1))

    def save_bytes(self, data: bytes, *, key: str) -> StoredFile:
        return self.save_stream(io.BytesIO(data), key=key, max_bytes=max(len(data), 1))


class LocalStorage(WholeFiles):
    """Files in a local directory, written atomically (temp file, fsync, rename)."""

    def __init__(self, root: Path):
        self.root = root.resolve()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise bad_key()
        return path

    def new_key(self, prefix: str, suffix: str = "") -> str:
        return new_key(prefix, suffix)

    def save_stream(self, stream: BinaryIO, *, key: str, max_bytes: int) -> StoredFile:
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.part")
        digest = Digest(max_bytes)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.add(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.size == 0:
                raise empty_file()
            os.replace(tmp, path)
        except OSError as exc:
            if exc.errno in _NO_SPACE:
                raise StorageFull() from exc
            raise
        finally:
            tmp.unlink(missing_ok=True)  # nothing half-written stays behind, full disk or not
        return digest.stored(key)

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        try:
            handle = open(self._path(key), "rb")
        except FileNotFoundError:
            raise file_gone() from None
        with handle:
            yield handle

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise file_gone() from None

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """The file itself: nothing is copied for local storage."""
        path = self._path(key)
        if not path.is_file():
            raise file_gone()
        yield path

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


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or ending in "/"


def parse_storage_url(url: str) -> Path | S3Location | None:
    """None for the default local folder, a Path for file:///path, an S3Location for s3://bucket/prefix."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(parts.path)
    prefix = parts.path.strip("/")
    return S3Location(bucket=parts.netloc, prefix=f"{prefix}/" if prefix else "")


def build_storage(settings: Settings) -> Storage:
    """The process's one storage, from STORAGE_URL (and STORAGE_DIR / the S3_* settings)."""
    where = parse_storage_url(settings.storage_url)
    if where is None:
        return LocalStorage(settings.files_dir)
    if isinstance(where, Path):
        return LocalStorage(where)
    from common.s3_storage import S3Storage, make_client

    return S3Storage(
        client=make_client(settings), bucket=where.bucket, prefix=where.prefix,
        part_size=settings.s3_part_size_mb * 1024 * 1024,
    )


def main(argv: list[str] | None = None) -> None:
    """`python -m common.storage ensure-bucket`: make sure the configured storage exists."""
    import sys

    from common.config import get_settings

    args = argv if argv is not None else sys.argv[1:]
    if args != ["ensure-bucket"]:
        raise SystemExit("usage: python -m common.storage ensure-bucket")
    storage = build_storage(get_settings())
    if isinstance(storage, LocalStorage):
        storage.root.mkdir(parents=True, exist_ok=True)
        print(f"local folder {storage.root}")
        return
    try:
        created = storage.ensure_bucket()
    except StorageUnavailable as exc:
        raise SystemExit(f"timon: storage: {exc.message}") from None
    print(f"{'created' if created else 'kept'} bucket {storage.bucket}")


if __name__ == "__main__":
    main()
