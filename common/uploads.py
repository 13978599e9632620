"""Uploads: a size cap enforced while the body streams in, and the file kept under a random key."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import PurePath

from fastapi import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.errors import BadInput, TooLarge, error_body
from common.storage import LocalStorage, StoredFile

MULTIPART_OVERHEAD = 64 * 1024


class UploadSizeLimit:
    """ASGI middleware: a multipart body over the cap is refused before or while it is read.

    A declared Content-Length over the cap gets 413 at once; a chunked body is counted as it
    arrives and stops being read at the cap, so nobody can fill the disk with one request.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes + MULTIPART_OVERHEAD
        self.message = (
            f"El archivo supera el límite de {max_bytes // (1024 * 1024)} MB. "
            "Divídelo en archivos más pequeños o pide al administrador que suba MAX_UPLOAD_MB."
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_multipart(scope):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _reject(send, self.message)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # a DomainError passes through FastAPI's body parsing as it is (anything else becomes a 400)
                    raise TooLarge(self.message, code="upload_too_large")
            return message

        await self.app(scope, counting_receive, send)


def _is_multipart(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.lower().startswith(b"multipart/")
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _reject(send: Send, message: str) -> None:
    import json

    body = json.dumps(error_body(detail=message, code="upload_too_large")).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def store_upload(
    *, storage: LocalStorage, upload: UploadFile, prefix: str, max_bytes: int,
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
