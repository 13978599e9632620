"""An uploaded file to pages of text: sniff → open → per page, text layer or render → OCR → check.

Each step lives in its own module (sniff, pdf, images, page_ocr); this one strings them together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path

from veterinaria.app.documents.read import images, pdf
from veterinaria.app.documents.read.engine import OcrEngine, get_engine
from veterinaria.app.documents.read.errors import DocumentError
from veterinaria.app.documents.read.page_ocr import read_page
from veterinaria.app.documents.read.pdf_cost import PageCosts
from veterinaria.app.documents.read.pool import PageScan, close_pool, get_pool
from veterinaria.app.documents.read.results import DocumentText, PageText
from veterinaria.app.documents.read.sniff import HEAD_SIZE, sniff_document

ProgressCallback = Callable[[int, int], None]
PageItems = Iterator[PageText | PageScan]

NO_TEXT = (
    "No se encontró texto en el documento: parece una página en blanco o una foto sin texto. "
    "Comprueba que es el documento correcto y que la foto está enfocada y bien iluminada."
)


@contextmanager
def _pdf_pages(path: Path, *, max_pages: int, dpi: int, memory_budget: int):
    """(page count, pages, text layers): text-layer pages ready, the others rendered for OCR, one at a time.

    A page with a text layer and a large picture (a scan pasted into a typed report) is sent to OCR
    as that picture alone; its text layer waits in `layers` to be put before what the OCR reads.
    """
    with pdf.open_pdf(path, max_pages=max_pages) as document:
        costs = PageCosts(path)
        layers: dict[int, str] = {}

        def pages() -> PageItems:
            for index in range(len(document)):
                costs.check(index, memory_budget)  # PDFium parses the whole page as it loads it
                page = pdf.load_page(document, index)
                try:
                    text = pdf.text_layer(page)
                    region = pdf.picture_region(page) if text is not None else None
                    if region is not None:
                        image, used_dpi = pdf.render_region(page, region, dpi, memory_budget=memory_budget)
                        layers[index + 1] = text.strip()
                        item: PageText | PageScan = PageScan(number=index + 1, image=image, dpi=used_dpi)
                    elif text is not None:
                        item = PageText(number=index + 1, text=text.strip(), confidence=1.0, source="text-layer")
                    else:
                        image, used_dpi = pdf.render(page, pdf.scan_resolution(page) or dpi, memory_budget=memory_budget)
                        item = PageScan(number=index + 1, image=image, dpi=used_dpi)
                finally:
                    page.close()  # before the OCR: PDFium's objects and decoded pictures go now
                yield item

        yield len(document), pages(), layers


def _with_text_layer(page: PageText, layer: str) -> PageText:
    """A mixed page: its text layer, then what OCR read in its picture; confidence weighted by characters."""
    ocr = page.text.strip()
    if not ocr:
        return PageText(number=page.number, text=layer, confidence=1.0, source="text-layer")
    confidence = (len(layer) + page.confidence * len(ocr)) / (len(layer) + len(ocr))
    return PageText(number=page.number, text=f"{layer}\n\n{ocr}", confidence=round(confidence, 4),
                    source="text-layer+ocr", rotated=page.rotated, deskew=page.deskew)


@contextmanager
def _image_pages(path: Path, *, max_pages: int, memory_budget: int):
    with images.open_image(path, max_pages=max_pages) as opened:

        def pages() -> PageItems:
            count = images.page_count(opened)
            for index in range(count):
                image, dpi = images.read_frame(opened, index, memory_budget=memory_budget)
                if count == 1 and image is not opened:
                    opened.close()  # the decoded frame is not needed while Tesseract reads its grey copy
                yield PageScan(number=index + 1, image=image, dpi=dpi)

        yield images.page_count(opened), pages(), {}


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
    memory_budget: int = images.MEMORY_BUDGET,
) -> DocumentText:
    """The text of every page of a PDF or image file, with per-page confidence.

    `dpi`: the resolution a PDF page drawn without a scan is rendered at; a scanned page is
    rendered at its scan's own resolution (`pdf.scan_resolution`). `on_page(done, total)` is
    called after each page. `workers` > 1 OCRs scanned pages in that many kept-alive helper
    processes (one engine each) instead of this process's engine.
    `memory_budget` bounds what decoding one page may allocate (WORKER_PEAK_MEMORY_MB's share).
    Raises DocumentError, with a message for the vet, for any file that cannot be read.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        kind = sniff_document(handle.read(HEAD_SIZE))
    if kind == "pdf":
        opened = _pdf_pages(path, max_pages=max_pages, dpi=dpi, memory_budget=memory_budget)
    else:
        opened = _image_pages(path, max_pages=max_pages, memory_budget=memory_budget)
    pages: list[PageText] = []
    with opened as (total, items, layers):

        def collect(page: PageText) -> None:
            if page.number in layers:
                page = _with_text_layer(page, layers.pop(page.number))
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
