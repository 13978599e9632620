"""PDF pages through PDFium: the text layer when a page has a real one, a rendered image when not."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
from PIL import Image

from veterinaria.app.documents.read.errors import DocumentError

#: A text layer with fewer letters and digits than this is a stamp or a page number, not the page.
MIN_TEXT_LAYER_CHARS = 20
#: ...and on a page covered by a picture (a scan), the text layer must hold at least this many
#: to be trusted: a scan with an OCR layer has a page of text, a phone-scanner watermark a line.
MIN_TEXT_OVER_SCAN_CHARS = 200
#: A page image is rendered at the requested dpi unless that exceeds this many pixels (huge sheets).
MAX_RENDER_PIXELS = 50_000_000
#: A scanned page is rendered at its picture's own resolution, within these bounds: a 360 dpi scan
#: drawn at 300 lost a sixth of its pixels, a 96 dpi one drawn at 300 got nine times as many
#: invented ones; below and above, the text's size decides (preprocess.text_scale).
SCAN_DPI_RANGE = (100, 600)
#: What reading one file may add to a worker child (Settings.file_memory_budget_bytes by default).
MEMORY_BUDGET = 250_000_000
_TAIL = 4096
_DAMAGED = (
    "El PDF está dañado o incompleto (quizá la subida o la descarga se cortó) y no se puede abrir. "
    "Vuelve a descargarlo o a escanearlo y súbelo de nuevo."
)


@contextmanager
def open_pdf(path: Path, *, max_pages: int):
    """The open document, after checking it is complete, unencrypted and within the page cap."""
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - _TAIL))
        if b"%%EOF" not in handle.read():
            raise DocumentError(_DAMAGED, code="pdf_damaged")
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) == pdfium_raw.FPDF_ERR_PASSWORD:
            raise DocumentError(
                "El PDF está protegido con contraseña y no se puede leer. Ábrelo con la contraseña, "
                "guárdalo sin ella (o imprímelo como PDF nuevo) y vuelve a subirlo.",
                code="pdf_password",
            ) from None
        raise DocumentError(_DAMAGED, code="pdf_damaged") from None
    try:
        pages = len(document)
        if pages == 0:
            raise DocumentError("El PDF no tiene ninguna página. Comprueba que es el documento correcto.", code="pdf_no_pages")
        if pages > max_pages:
            raise DocumentError(
                f"El PDF tiene {pages} páginas y el máximo es {max_pages}. Divídelo en partes de "
                f"{max_pages} páginas como mucho y súbelas por separado.",
                code="too_many_pages",
            )
        yield document
    finally:
        document.close()


def load_page(document: pdfium.PdfDocument, index: int) -> pdfium.PdfPage:
    try:
        return document[index]
    except pdfium.PdfiumError:
        raise DocumentError(_DAMAGED, code="pdf_damaged") from None


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\x02", "-").replace("\ufffe", "-").replace("\x00", "")


def _covered_by_picture(page: pdfium.PdfPage) -> bool:
    """Whether one image covers most of the page (a scan), found without decoding any image."""
    width, height = page.get_size()
    area = width * height
    for picture in page.get_objects(filter=[pdfium_raw.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        left, bottom, right, top = picture.get_bounds()
        if (right - left) * (top - bottom) >= 0.5 * area:
            return True
    return False


def scan_resolution(page: pdfium.PdfPage) -> int | None:
    """The resolution (dpi) of the picture that covers most of the page (a scan), as the page draws it; None without one.

    From the picture's pixels and its placement's matrix, so a picture drawn skewed or turned has
    its own resolution too (a bounding box would be wider than the picture). Only pictures drawn on
    the page itself: one inside a form has its matrix in the form's space (and the caller's dpi).
    """
    width, height = page.get_size()
    for picture in page.get_objects(filter=[pdfium_raw.FPDF_PAGEOBJ_IMAGE], max_depth=1):
        a, b, c, d, _, _ = picture.get_matrix().get()
        across, down = (a * a + b * b) ** 0.5, (c * c + d * d) ** 0.5  # the picture's sides on the page, in points
        if across * down < 0.5 * width * height:
            continue
        pixels_across, pixels_down = picture.get_px_size()
        native = min(pixels_across / across, pixels_down / down) * 72
        return round(min(max(native, SCAN_DPI_RANGE[0]), SCAN_DPI_RANGE[1]))
    return None


def _letters(text: str) -> int:
    return sum(char.isalnum() for char in text)


def text_layer(page: pdfium.PdfPage) -> str | None:
    """The page's own text when it has a real text layer (no OCR needed), else None."""
    textpage = page.get_textpage()
    try:
        text = _clean(textpage.get_text_range())
    finally:
        textpage.close()
    letters = _letters(text)
    if letters < MIN_TEXT_LAYER_CHARS:
        return None
    if "\ufffd" in text and text.count("\ufffd") > 0.1 * letters:
        return None  # fonts without a Unicode map: the "text" is glyph ids, OCR reads it better
    if letters < MIN_TEXT_OVER_SCAN_CHARS and _covered_by_picture(page):
        return None
    return text


def embedded_image_bytes(page: pdfium.PdfPage) -> int:
    """What PDFium allocates to decode the page's pictures to draw them (4 bytes a pixel, at full size)."""
    total = 0
    for picture in page.get_objects(filter=[pdfium_raw.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        width, height = picture.get_px_size()
        total += width * height * 4
    return total


def render(page: pdfium.PdfPage, dpi: int, *, memory_budget: int = MEMORY_BUDGET) -> tuple[Image.Image, int]:
    """The page as a greyscale image at `dpi` (less for huge sheets), and the dpi used.

    The pictures PDFium must decode to draw the page take at most a third of `memory_budget` (or the
    page is refused), the rendered bitmap and its copy as a Pillow image another third at most.
    """
    pictures = embedded_image_bytes(page)
    if pictures > memory_budget // 3:
        raise DocumentError(
            f"El PDF contiene una imagen demasiado grande para leerla ({pictures // 1_000_000:,} MB una vez "
            f"abierta; el máximo es {memory_budget // 3_000_000:,} MB). Vuelve a escanear el documento a 300 ppp "
            "o expórtalo de nuevo como PDF y súbelo.".replace(",", "."),
            code="pdf_image_too_large",
        )
    width, height = page.get_size()  # points: 1/72 inch
    pixels = width * height * (dpi / 72) ** 2
    # one byte a pixel, twice (bitmap and copy), then reduced for Tesseract to at most MAX_OCR_PIXELS
    most = min(MAX_RENDER_PIXELS, memory_budget // 6)
    if pixels > most:
        dpi = max(1, int(dpi * (most / pixels) ** 0.5))
    try:
        bitmap = page.render(scale=dpi / 72, grayscale=True)
    except pdfium.PdfiumError:
        raise DocumentError(_DAMAGED, code="pdf_damaged") from None
    return bitmap.to_pil(), dpi


#: On a page with a text layer, pictures covering at least this share of the page are OCRed too (a
#: scan pasted into a typed report); logos, signatures and stamps are smaller.
MIN_PICTURE_SHARE = 0.08


def picture_region(page: pdfium.PdfPage) -> tuple[float, float, float, float] | None:
    """The box (left, bottom, right, top; points) around the page's large pictures that carry no text
    layer of their own, or None.

    A picture under text (a scan with its OCR layer, a letterhead background) is already read.
    """
    width, height = page.get_size()
    boxes = []
    for picture in page.get_objects(filter=[pdfium_raw.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        left, bottom, right, top = picture.get_bounds()
        left, bottom, right, top = max(0.0, left), max(0.0, bottom), min(width, right), min(height, top)
        if right > left and top > bottom and (right - left) * (top - bottom) >= MIN_PICTURE_SHARE * width * height:
            boxes.append((left, bottom, right, top))
    if not boxes:
        return None
    textpage = page.get_textpage()
    try:
        boxes = [box for box in boxes if _letters(textpage.get_text_bounded(*box)) < MIN_TEXT_LAYER_CHARS]
    finally:
        textpage.close()
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def render_region(page: pdfium.PdfPage, box: tuple[float, float, float, float], dpi: int, *,
                  memory_budget: int = MEMORY_BUDGET) -> tuple[Image.Image, int]:
    """Only `box` of the page (see `picture_region`) as a greyscale image at `dpi`, like `render`."""
    if embedded_image_bytes(page) > memory_budget // 3:
        return render(page, dpi, memory_budget=memory_budget)  # refuses it with the message for the vet
    width, height = page.get_size()
    left, bottom, right, top = box
    pixels = (right - left) * (top - bottom) * (dpi / 72) ** 2
    most = min(MAX_RENDER_PIXELS, memory_budget // 6)
    if pixels > most:
        dpi = max(1, int(dpi * (most / pixels) ** 0.5))
    try:
        bitmap = page.render(scale=dpi / 72, grayscale=True, crop=(left, bottom, width - right, height - top))
    except pdfium.PdfiumError:
        raise DocumentError(_DAMAGED, code="pdf_damaged") from None
    return bitmap.to_pil(), dpi
