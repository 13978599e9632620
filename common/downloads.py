"""A stored file as an HTTP download, streamed through the service (after the route's own checks).

The same for both backends: the bytes come from `Storage.open` in 1 MiB chunks, so neither the
API's disk nor its memory holds the whole file, and the bucket needs no public access or presigned
URL. A missing file is 404 `file_gone` before any byte is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from urllib.parse import quote

from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from common.storage import CHUNK, Storage


def file_download(*, storage: Storage, key: str, media_type: str, filename: str) -> StreamingResponse:
    """Stream `key` as an attachment named `filename`, with its Content-Length."""
    size = storage.size(key)
    stack = ExitStack()
    handle = stack.enter_context(storage.open(key))

    def chunks() -> Iterator[bytes]:
        with stack:
            while chunk := handle.read(CHUNK):
                yield chunk

    return StreamingResponse(
        chunks(), media_type=media_type, background=BackgroundTask(stack.close),  # also when never iterated
        headers={"Content-Length": str(size), "Content-Disposition": content_disposition(filename)},
    )


def content_disposition(filename: str) -> str:
    """`attachment` with the name, RFC 6266/5987-encoded when it is not plain ASCII (a pet called Ñandú)."""
    quoted = quote(filename)
    if quoted != filename:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{filename}"'
