"""Uploads: the file kept under a random key (the size cap on the body is common/guards.py)."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from pathlib import PurePath

from fastapi import UploadFile

from common.errors import BadInput
from common.storage import Storage, StoredFile

MAX_NAME_CHARS = 255  # what every file system we know of allows for one name
_SEPARATORS = re.compile(r"[/\\]")


def display_name(filename: str | None) -> str:
    """The name a user gave their file, fit to show and store: its last path part only (a name such as
    `../../etc/passwd` names nothing on our side: files live under random keys), no control
    characters, at most MAX_NAME_CHARS characters with the extension kept. A NUL is refused (422
    `nul_character`), as everywhere else in a request."""
    name = filename or ""
    if "\x00" in name:
        raise BadInput("El nombre del archivo contiene el carácter nulo (\\0): cámbiale el nombre y vuelve a subirlo.",
                       code="nul_character")
    name = _SEPARATORS.split(name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > MAX_NAME_CHARS:
        _stem, dot, extension = name.rpartition(".")
        extension = dot + extension if dot and len(extension) <= 10 else ""
        name = name[: MAX_NAME_CHARS - len(extension)] + extension
    return name


def store_upload(
    *, storage: Storage, upload: UploadFile, prefix: str, max_bytes: int,
    sniff: Callable[[bytes], str], refusals: tuple[type[Exception], ...],
) -> tuple[StoredFile, str]:
    """Copy an upload into storage under a random key (keeping only its extension), hashing it on the way,
    and tell its kind from its first bytes. A file `sniff` refuses (raising one of `refusals`, whose
    `.message` is for the user) is deleted again and answered with 422. `upload.filename` becomes its
    `display_name`."""
    upload.filename = display_name(upload.filename)
    suffix = PurePath(upload.filename).suffix.lower()[:10]
    if not suffix.replace(".", "").isalnum():
        suffix = ""
    upload.file.seek(0, os.SEEK_SET)
    stored = storage.save_stream(upload.file, key=storage.new_key(prefix, suffix), max_bytes=max_bytes)
    try:
        return stored, sniff(stored.head)
    except refusals as exc:
        storage.delete(stored.key)
        raise BadInput(getattr(exc, "message", str(exc)), code=getattr(exc, "code", None)) from None
