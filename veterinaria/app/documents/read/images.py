"""Photos and scans (JPEG, PNG, TIFF with any number of pages, HEIC/HEIF, WebP, BMP, GIF) as upright
greyscale page images.

Pillow reads only the header on `open`, so sizes are checked before any pixel is decoded: a
decompression bomb (a tiny file that decodes to gigabytes) is refused at once, with little memory.
HEIC/HEIF (iPhone photos) open through pillow-heif's Pillow plugin. A fax's non-square pixels
(204 × 98 dpi) are made square before OCR. A JPEG whose compressed data is broken is refused as
damaged: libjpeg decodes it to grey and noise without an error, and the vet would be told the page
looks blank.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pillow_heif
from PIL import Image, UnidentifiedImageError

from veterinaria.app.documents.read.errors import DocumentError

pillow_heif.register_heif_opener()

#: Largest page we decode (a 108-megapixel phone photo would need to be scaled down first).
MAX_IMAGE_PIXELS = 100_000_000
#: Longer sides are reduced before OCR: past this the text is huge and OCR only gets slower.
MAX_OCR_SIDE = 5000
#: ...and so are pages of more pixels than this: Tesseract takes about 8 bytes a pixel (measured
#: with bench/memory_bound.py), and 12.5 MP is an A4 page at 360 dpi.
MAX_OCR_PIXELS = 12_500_000
#: What reading one file may add to a worker child (Settings.file_memory_budget_bytes by default).
MEMORY_BUDGET = 250_000_000
_DAMAGED = (
    "La imagen está dañada o incompleta (quizá la subida se cortó) y no se puede abrir. "
    "Vuelve a hacer la foto o el escaneo y súbela de nuevo."
)


def _too_large(width: int, height: int) -> DocumentError:
    return DocumentError(
        f"La imagen es demasiado grande ({width:,} × {height:,} píxeles; el máximo es "
        f"{MAX_IMAGE_PIXELS // 1_000_000} megapíxeles). Escanéala a 300 ppp o reduce su tamaño y vuelve a subirla."
        .replace(",", "."),
        code="image_too_large",
    )


def check_size(image: Image.Image) -> None:
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise _too_large(width, height)
    if width < 8 or height < 8:
        raise DocumentError(
            "La imagen es demasiado pequeña para contener texto legible. Súbela a mayor resolución.",
            code="image_too_small",
        )


#: Of the budget, what is kept for Tesseract reading the page (at most MAX_OCR_SIDE on a side).
OCR_RESERVE = 0.4
#: Bytes a pixel at the peak of turning a frame grey, by mode: the decoded frame and its copies.
_PEAK_PER_PIXEL = {"1": 2, "L": 2, "P": 3, "I;16": 5, "I;16L": 5, "I;16B": 5, "RGBA": 7, "LA": 7, "PA": 7}


def decoded_bytes(image: Image.Image) -> int:
    """What decoding the current frame will allocate: Pillow keeps 1, 2 or 4 bytes a pixel by mode."""
    width, height = image.size
    per_pixel = 1 if image.mode in ("1", "L", "P") else 2 if image.mode.startswith("I;16") else 4
    return width * height * per_pixel


def check_memory(image: Image.Image, budget: int) -> None:
    """The decoded frame and the greyscale copies made from it must fit in the budget less Tesseract's share."""
    allowed = int(budget * (1 - OCR_RESERVE))
    per_pixel = _PEAK_PER_PIXEL.get(image.mode, 5)
    if image.width * image.height * per_pixel > allowed:
        megabytes = decoded_bytes(image) // 1_000_000
        most = allowed * decoded_bytes(image) // max(1, image.width * image.height) // per_pixel // 1_000_000
        raise DocumentError(
            f"La imagen es demasiado grande para leerla: ocupa {megabytes:,} MB en memoria una vez abierta "
            f"(el máximo es {most:,} MB)".replace(",", ".") + ". Escanéala en escala de grises a 300 ppp, o "
            "reduce su tamaño, y vuelve a subirla.",
            code="image_too_large",
        )


@contextmanager
def open_image(path: Path, *, max_pages: int):
    """The image file, opened lazily, with its first frame's size and the page count checked."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it; `check_size` applies ours
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError as error:
        numbers = [int(n) for n in re.findall(r"\d+", str(error))]
        megapixels = numbers[0] // 1_000_000 if numbers else 0
        raise DocumentError(
            f"La imagen es demasiado grande ({megapixels:,} megapíxeles; el máximo es "
            f"{MAX_IMAGE_PIXELS // 1_000_000}). Escanéala a 300 ppp o reduce su tamaño y vuelve a subirla."
            .replace(",", "."),
            code="image_too_large",
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, RuntimeError):  # pillow-heif: RuntimeError
        raise DocumentError(_DAMAGED, code="image_damaged") from None
    with image:
        check_size(image)
        pages = page_count(image)
        if pages > max_pages:
            raise DocumentError(
                f"El archivo tiene {pages} páginas y el máximo es {max_pages}. Divídelo y súbelo por partes.",
                code="too_many_pages",
            )
        yield image


#: libjpeg's fill for the blocks it never received: mid grey (all coefficients zero).
_MISSING_BLOCKS = 128


def jpeg_ended_early(image: Image.Image) -> bool:
    """Whether the decoded JPEG's last blocks are libjpeg's flat grey fill: its data ran out early.

    A JPEG whose compressed data a bad copy damaged decodes without an error: the decoder loses step,
    consumes the rest too fast and fills the blocks it never got with exactly mid grey, bottom right.
    No scan or photo has its last block row's right end in exactly one grey.
    """
    width, height = image.size
    corner = image.crop((width - max(8, width // 8), height - min(8, height), width, height))
    extrema = corner.getextrema()
    bands = extrema if isinstance(extrema[0], tuple) else (extrema,)
    return all(band == (_MISSING_BLOCKS, _MISSING_BLOCKS) for band in bands)


def page_count(image: Image.Image) -> int:
    """Pages of a TIFF; other formats are one page (a phone's MPO JPEG carries a preview as frame 2,
    a HEIC a depth map or a burst, a GIF or WebP its animation's frames)."""
    return getattr(image, "n_frames", 1) if image.format == "TIFF" else 1


_ORIENTATION = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _resolution(image: Image.Image) -> tuple[int, int] | None:
    """The (horizontal, vertical) dpi tags, when both are plausible (a fax: 204 × 98 or 204 × 196)."""
    dpi = image.info.get("dpi")
    try:
        x, y = (round(float(dpi[0])), round(float(dpi[1]))) if dpi else (0, 0)
    except (TypeError, ValueError, IndexError):
        return None
    return (x, y) if 70 <= x <= 1200 and 70 <= y <= 1200 else None


#: Pixels more oblong than this (x dpi / y dpi) are made square before OCR; Tesseract expects square ones.
_SQUARE_TOLERANCE = 0.02


def make_square(grey: Image.Image, resolution: tuple[int, int] | None) -> Image.Image:
    """A fax page's oblong pixels stretched to square at the higher of its two resolutions.

    A standard-mode fax is 204 × 98 dpi: drawn as stored, its letters are half as tall as wide and
    Tesseract reads little. The grey copy (one byte a pixel) is stretched, never the decoded frame.
    """
    if not resolution or abs(resolution[0] / resolution[1] - 1) <= _SQUARE_TOLERANCE:
        return grey
    x, y = resolution
    width, height = grey.size
    size = (width, round(height * x / y)) if x > y else (round(width * y / x), height)
    return grey.resize(size, Image.Resampling.BICUBIC)


def to_grey(image: Image.Image) -> Image.Image:
    """8-bit greyscale on white: transparency becomes paper, 16-bit scans keep their high byte.

    Each step makes one-byte-a-pixel copies only (never another four-byte one).
    """
    if image.mode == "L":
        return image
    if image.mode in ("I;16", "I;16L", "I;16B"):
        raw = "L;16B" if image.mode == "I;16B" else "L;16"
        return Image.frombytes("L", image.size, image.tobytes(), "raw", raw)
    if image.mode == "I":
        return image.point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        paper = Image.new("L", image.size, 255)
        paper.paste(image.convert("L"), mask=image.getchannel("A"))
        return paper
    return image.convert("L")


def limit_side(image: Image.Image, dpi: int | None, max_pixels: int = MAX_OCR_PIXELS) -> tuple[Image.Image, int | None]:
    """The image reduced by a whole factor when its longer side exceeds MAX_OCR_SIDE or it has more
    than `max_pixels`, and its dpi."""
    factor = max(-(-max(image.size) // MAX_OCR_SIDE), math.ceil(math.sqrt(image.width * image.height / max_pixels)))
    if factor <= 1:
        return image, dpi
    if image.mode == "1":  # reduce() refuses 1-bit images; grey keeps the strokes' partial pixels too
        image = image.convert("L")
    return image.reduce(factor), (dpi // factor if dpi else None)


def read_frame(image: Image.Image, index: int, *, memory_budget: int = MEMORY_BUDGET) -> tuple[Image.Image, int | None]:
    """Page `index` decoded, turned as its EXIF says, in greyscale, with its dpi if known.

    A frame larger than MAX_OCR_SIDE is reduced before it is turned grey, so the copies are small.
    """
    try:
        image.seek(index)
        check_size(image)
        resolution, full_width = _resolution(image), image.width
        dpi = max(resolution) if resolution else None
        if image.format == "JPEG" and image.mode in ("RGB", "YCbCr", "L"):
            scale = max(1, -(-max(image.size) // MAX_OCR_SIDE))
            image.draft("L", (image.width // scale, image.height // scale))  # decode smaller and greyscale
        check_memory(image, memory_budget)
        image.load()
        if image.format in ("JPEG", "MPO") and jpeg_ended_early(image):
            raise DocumentError(_DAMAGED, code="image_damaged")
        if dpi and image.width != full_width:
            dpi = round(dpi * image.width / full_width)
        frame: Image.Image = image
        if not image.mode.startswith("I;16"):  # reduce() does not take 16-bit frames
            frame, dpi = limit_side(image, dpi)
        orientation = image.getexif().get(_ORIENTATION, 1)
        grey = make_square(to_grey(frame), resolution)  # turned afterwards: exif_transpose would copy the frame even when upright
        if orientation in _TRANSPOSE:
            grey = grey.transpose(_TRANSPOSE[orientation])
        grey, dpi = limit_side(grey, dpi)
        if grey.format is not None:
            # still the file's own object (a greyscale file): tesserocr hands Tesseract the picture
            # re-encoded in its source format, which Leptonica cannot read for GIF and loses detail for JPEG
            grey = grey.copy()
        return grey, dpi
    except DocumentError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        raise DocumentError(_DAMAGED, code="image_damaged") from None


def iter_frames(image: Image.Image, *, memory_budget: int = MEMORY_BUDGET) -> Iterator[tuple[Image.Image, int | None]]:
    for index in range(page_count(image)):
        yield read_frame(image, index, memory_budget=memory_budget)
