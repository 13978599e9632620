"""An OCR helper process (see pool.py): page images in on one pipe, PageTexts out on the other.

    python -m veterinaria.app.documents.read.helper READ_FD WRITE_FD
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from multiprocessing.connection import Connection

from PIL import Image

from veterinaria.app.documents.read.engine import get_engine
from veterinaria.app.documents.read.page_ocr import read_page


def serve(inbox: Connection, outbox: Connection) -> None:
    engine = get_engine()
    while True:
        try:
            number, size, pixels, dpi = inbox.recv()
        except EOFError:
            return  # the parent closed the pipe or died
        try:
            page = read_page(Image.frombytes("L", size, pixels), number=number, engine=engine, dpi=dpi)
            outbox.send(("ok", asdict(page)))
        except Exception as error:  # noqa: BLE001 - reported to the parent, which raises it
            outbox.send(("error", f"{type(error).__name__}: {error}"))


def main() -> None:
    read_fd, write_fd = int(sys.argv[1]), int(sys.argv[2])
    sys.stdout = sys.stderr  # nothing may print into the parent's terminal by accident
    serve(Connection(read_fd, writable=False), Connection(write_fd, readable=False))


if __name__ == "__main__":
    main()
