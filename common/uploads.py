"""Uploads: the file kept under a random key (the size cap on the body is common/guards.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import PurePath

from fastapi import UploadFile

from common.errors import BadInput
from common.storage import Storage, StoredFile


def store_upload(
    *, storage: Storage, upload: UploadFile, prefix: str, max_bytes: int,
    sniff: Callable[[bytes], str], refusals: tuple[type[Exception], ...],
) -> tuple[StoredFile, str]:
    """Copy an upload into storage under a random key (keeping only its extension), hashing it on the way,
    and tell its kind from its first bytes. A file `sniff` refuses (raising one of `refusals`, whose
    `.message` is for the user) is deleted again and answered with 422."""
    suffix = PurePath(upload.filename or "").suffix.lower()[:10]
    if not suffix.replace(".", "").isalnum():
        suffix = ""
    upload.file.seek(0, os.SEEK_SET)
    stored = storage.save_stream(upload.file, key=storage.new_key(prefix, suffix), max_bytes=max_bytes)
    try:
        return stored, sniff(stored.head)
    except refusals as exc:
        storage.delete(stored.key)
        raise BadInput(getattr(exc, "message", str(exc)), code=getattr(exc, "code", None)) from None
