"""One page of a stored document as a PNG, to show beside its text: a bounded size, whatever the file.

PDF pages are rendered by PDFium at the scale that fits `MAX_SIDE`; photos and scans are decoded
(JPEG in draft mode, so a big photo is decoded small), turned upright by their EXIF orientation and
reduced. The size checks of the reading (`read.images.check_size`) refuse a decompression bomb
before any pixel is decoded.
"""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageOps

from common.errors import NotFound
from veterinaria.app.documents.read.errors import DocumentError
from veterinaria.app.documents.read.images import check_size
from veterinaria.app.models import Document

#: The longer side of a preview, in pixels: sharp on a tablet, a few hundred kB at most.
MAX_SIDE = 1400


def page_png(*, document: Document, path: Path, number: int) -> bytes:
    """Page `number` (from 1) of the document's file as PNG bytes, its longer side at most MAX_SIDE."""
    if document.status != "processed" or not 1 <= number <= document.pages:
        raise NotFound(f"El documento {document.id} no tiene una página {number} que mostrar.", code="page_not_found")
    try:
        image = _pdf_page(path, number) if document.file_kind == "pdf" else _image_page(path, number)
    except (DocumentError, OSError, pdfium.PdfiumError, EOFError):
        raise NotFound(f"No se puede mostrar la página {number} del documento {document.id}: su archivo ya no se "
                       "puede abrir.", code="page_not_found") from None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    if image.mode not in ("1", "L", "RGB"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _pdf_page(path: Path, number: int) -> Image.Image:
    pdf = pdfium.PdfDocument(path)
    try:
        page = pdf[number - 1]
        width, height = page.get_size()  # points
        bitmap = page.render(scale=min(4.0, MAX_SIDE / max(width, height, 1)))
        return bitmap.to_pil()
    finally:
        pdf.close()


def _image_page(path: Path, number: int) -> Image.Image:
    with Image.open(path) as image:
        image.seek(number - 1)
        check_size(image)
        if image.format == "JPEG":
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))
        frame = ImageOps.exif_transpose(image)
        frame.load()
        return frame.copy() if frame is image else frame
