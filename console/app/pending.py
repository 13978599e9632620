"""Uploaded inventory files kept between the preview (a dry run) and the apply, so nobody picks the file twice.

The petshop API deletes a job's input once the job finishes, so the console keeps its own copy,
under <VAR_DIR>/console/uploads/, named by a random key that only the uploader's session knows.
Copies older than a day are swept on the next upload.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

KEEP_SECONDS = 24 * 3600
CHUNK = 1024 * 1024


class TooLarge(Exception):
    pass


@dataclass(frozen=True)
class PendingFile:
    key: str
    path: Path
    file_name: str
    content_type: str
    store_id: int
    user_id: int


class PendingUploads:
    def __init__(self, directory: Path, *, max_bytes: int):
        self.directory = directory
        self.max_bytes = max_bytes

    def save(self, source: BinaryIO, *, file_name: str, content_type: str, store_id: int, user_id: int) -> PendingFile:
        """Copy an upload (at most max_bytes) and return it; TooLarge past the limit."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._sweep()
        key = secrets.token_urlsafe(18)
        path = self.directory / f"{key}.bin"
        written = 0
        with open(path, "wb") as target:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > self.max_bytes:
                    target.close()
                    path.unlink(missing_ok=True)
                    raise TooLarge()
                target.write(chunk)
        meta = {"file_name": file_name, "content_type": content_type, "store_id": store_id, "user_id": user_id}
        (self.directory / f"{key}.json").write_text(json.dumps(meta))
        return PendingFile(key=key, path=path, **meta)

    def get(self, key: str, *, user_id: int) -> PendingFile | None:
        """The file saved under `key` by `user_id`, or None if it is gone or someone else's."""
        if not key.replace("-", "").replace("_", "").isalnum():
            return None
        meta_path, path = self.directory / f"{key}.json", self.directory / f"{key}.bin"
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            return None
        if meta.get("user_id") != user_id or not path.exists():
            return None
        return PendingFile(key=key, path=path, **meta)

    def discard(self, key: str) -> None:
        for suffix in (".bin", ".json"):
            (self.directory / f"{key}{suffix}").unlink(missing_ok=True)

    def _sweep(self) -> None:
        cutoff = time.time() - KEEP_SECONDS
        for path in self.directory.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except OSError:
                continue

