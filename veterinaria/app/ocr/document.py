"""An uploaded file to pages of text: sniff → open → per page, text layer or render → OCR → check.

Each step lives in its own module (sniff, pdf, images, page_ocr); this one strings them together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path

from veterinaria.app.ocr import images, pdf
from veterinaria.app.ocr.engine import OcrEngine, get_engine
from veterinaria.app.ocr.errors import DocumentError
from veterinaria.app.ocr.page_ocr import read_page
from veterinaria.app.ocr.pool import PageScan, close_pool, get_pool
from veterinaria.app.ocr.results import DocumentText, PageText
from veterinaria.app.ocr.sniff import HEAD_SIZE, sniff_document

ProgressCallback = Callable[[int, int], None]
PageItems = Iterator[PageText | PageScan]

NO_TEXT = (
    "No se encontró texto en el documento: parece una página en blanco o una foto sin texto. "
    "Comprueba que es el documento correcto y que la foto está enfocada y bien iluminada."
)


@contextmanager
def _pdf_pages(path: Path, *, max_pages: int, dpi: int):
    """(page count, pages): text-layer pages ready, the others rendered for OCR, one at a time."""
    with pdf.open_pdf(path, max_pages=max_pages) as document:

        def pages() -> PageItems:
            for index in range(len(document)):
                page = pdf.load_page(document, index)
                try:
                    text = pdf.text_layer(page)
                    if text is not None:
                        yield PageText(number=index + 1, text=text.strip(), confidence=1.0, source="text-layer")
                    else:
                        image, used_dpi = pdf.render(page, dpi)
                        yield PageScan(number=index + 1, image=image, dpi=used_dpi)
                finally:
                    page.close()

        yield len(document), pages()


@contextmanager
def _image_pages(path: Path, *, max_pages: int):
    with images.open_image(path, max_pages=max_pages) as opened:

        def pages() -> PageItems:
            for index in range(images.page_count(opened)):
                image, dpi = images.read_frame(opened, index)
                yield PageScan(number=index + 1, image=image, dpi=dpi)

        yield images.page_count(opened), pages()


def _read_serially(items: PageItems, engine: OcrEngine | None, on_result: Callable[[PageText], None]) -> None:
    for item in items:
        if isinstance(item, PageScan):
            engine = engine or get_engine()  # a text-only PDF never loads Tesseract
            item = read_page(item.image, number=item.number, engine=engine, dpi=item.dpi)
        on_result(item)


def _read_in_pool(items: PageItems, workers: int, on_result: Callable[[PageText], None]) -> None:
    for item in items:
        if isinstance(item, PageText):
            on_result(item)  # a text-layer page: no helper needed (yet)
            continue
        try:
            get_pool(workers).run(chain([item], items), on_result)
        except BaseException:
            close_pool(kill=True)  # helpers may still be busy with this document: start afresh next time
            raise
        return


def extract_document(
    path: Path | str,
    *,
    max_pages: int = 200,
    dpi: int = 300,
    on_page: ProgressCallback | None = None,
    engine: OcrEngine | None = None,
    workers: int = 1,
) -> DocumentText:
    """The text of every page of a PDF or image file, with per-page confidence.

    `on_page(done, total)` is called after each page. `workers` > 1 OCRs scanned pages in that
    many kept-alive helper processes (one engine each) instead of this process's engine.
    Raises DocumentError, with a message for the vet, for any file that cannot be read.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        kind = sniff_document(handle.read(HEAD_SIZE))
    if kind == "pdf":
        opened = _pdf_pages(path, max_pages=max_pages, dpi=dpi)
    else:
        opened = _image_pages(path, max_pages=max_pages)
    pages: list[PageText] = []
    with opened as (total, items):

        def collect(page: PageText) -> None:
            pages.append(page)
            if on_page:
                on_page(len(pages), total)

        if workers > 1 and total > 1:
            _read_in_pool(items, workers, collect)
        else:
            _read_serially(items, engine, collect)
    pages.sort(key=lambda page: page.number)
    if not any(page.text.strip() for page in pages):
        raise DocumentError(NO_TEXT, code="document_without_text")
    return DocumentText.from_pages("pdf" if kind == "pdf" else "image", pages)
