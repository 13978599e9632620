"""What PDFium will allocate to load a page, estimated from its content streams before it loads it.

PDFium parses a page's whole content into objects as it loads the page (a path, a text run, an
image each), with no way to stop it: one page whose 0.7 MB stream inflated to 30 million
rectangles took a worker child to 10 GB. pypdf reads the page tree and each stream's encoded
bytes without parsing any content; we inflate them ourselves, counting and discarding, and refuse
a page whose content (its own, its forms', patterns' and annotations' appearances) would not fit.

A PDF whose structure pypdf cannot read (no cross-reference table, a trailer that is not what it
says), or a page it cannot find or follow, is refused (`pdf_structure_damaged`) rather than handed
to PDFium unmeasured: PDFium repairs such files and would then load a page of any size. An
encrypted PDF that opens without a password (an owner password only) is decrypted and measured.
"""

from __future__ import annotations

import logging
import zlib
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from veterinaria.app.documents.read.errors import DocumentError

log = logging.getLogger(__name__)

#: PDFium's memory per byte of decoded content (measured: 390 MB of "re f" operators, 10 GB).
PER_CONTENT_BYTE = 32
_CHUNK = 1 << 20


def _resolve(value):
    return value.get_object() if isinstance(value, IndirectObject) else value


def _decoded_length(stream: StreamObject, limit: int) -> int:
    """The stream's decoded length, inflated a MiB at a time and thrown away; stops past `limit`."""
    filters = _resolve(stream.get("/Filter"))
    names = [str(_resolve(f)) for f in filters] if isinstance(filters, ArrayObject) else [str(filters)] if filters else []
    raw = stream._data  # the encoded bytes as stored in the file
    if not names:
        return len(raw)
    if names != ["/FlateDecode"] and names != ["/Fl"]:
        return len(stream.get_data())  # rare filters (LZW, ASCII85…) on a stream of at most the file's size
    inflater = zlib.decompressobj()
    total = 0
    data = raw
    while data and total <= limit:
        total += len(inflater.decompress(data, _CHUNK))
        data = inflater.unconsumed_tail
    return total


def _content_streams(node: DictionaryObject, seen: set[int]):
    """The streams PDFium parses to draw `node` (a page or a form): its contents, forms, patterns, appearances."""
    contents = _resolve(node.get("/Contents"))
    for item in contents if isinstance(contents, ArrayObject) else [contents]:
        item = _resolve(item)
        if isinstance(item, StreamObject):
            yield item
    resources = _resolve(node.get("/Resources")) or {}
    for kind in ("/XObject", "/Pattern"):
        for value in (_resolve(resources.get(kind)) or {}).values():
            child = _resolve(value)
            if not isinstance(child, StreamObject) or id(child) in seen:
                continue
            if kind == "/XObject" and child.get("/Subtype") != "/Form":
                continue  # pictures are measured by pixels (pdf.embedded_image_bytes)
            seen.add(id(child))
            yield child
            yield from _content_streams(child, seen)
    for annotation in _resolve(node.get("/Annots")) or []:
        appearance = _resolve((_resolve(_resolve(annotation).get("/AP")) or {}).get("/N"))
        if isinstance(appearance, StreamObject) and id(appearance) not in seen:
            seen.add(id(appearance))
            yield appearance
            yield from _content_streams(appearance, seen)


_DAMAGED_STRUCTURE = (
    "El PDF tiene dañada su estructura interna ({what}) y no podemos comprobar su contenido antes de "
    "abrirlo. Ábrelo y guárdalo como PDF nuevo (Imprimir → Guardar como PDF), o escanéalo, y vuelve a subirlo."
)
_READ_ERRORS = (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, zlib.error)


class PageCosts:
    """Per page of one PDF, the content PDFium would parse; opened once per document.

    Raises DocumentError (`pdf_structure_damaged`) if pypdf cannot read the document's structure.
    """

    def __init__(self, path: Path):
        try:
            self.reader = PdfReader(path, strict=False)
            if self.reader.is_encrypted:
                self.reader.decrypt("")  # PDFium opened it without a password, so the user password is empty
            self.reader.pages[0]  # noqa: B018  the page tree itself, read now
        except _READ_ERRORS as error:
            log.warning("pypdf cannot read %s (%s); refused", path.name, error)
            raise DocumentError(_DAMAGED_STRUCTURE.format(what="su índice de objetos"), code="pdf_structure_damaged") from None

    def check(self, index: int, budget: int) -> None:
        """DocumentError if page `index` would take more than `budget` bytes to load, or cannot be measured."""
        limit = budget // 3 // PER_CONTENT_BYTE  # a third: the render and Tesseract need the rest
        try:
            page = self.reader.pages[index]
            total = 0
            for stream in _content_streams(page, set()):
                total += _decoded_length(stream, limit - total)
                if total > limit:
                    break
        except _READ_ERRORS as error:
            log.warning("pypdf cannot read page %d (%s); refused", index + 1, error)
            raise DocumentError(
                _DAMAGED_STRUCTURE.format(what=f"la página {index + 1}"), code="pdf_structure_damaged"
            ) from None
        if total > limit:
            raise DocumentError(
                f"La página {index + 1} del PDF tiene un contenido demasiado complejo para leerlo (más de "
                f"{limit // 1_000_000} MB de instrucciones de dibujo). Imprímela como PDF nuevo o escanéala, "
                "y vuelve a subir el documento.",
                code="pdf_page_too_complex",
            )
