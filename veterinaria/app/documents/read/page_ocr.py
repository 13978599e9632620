"""One page image to text: prepare it from what it measures, level it, recognise, and read it again
another way when the reading is poor — keeping whichever reading Tesseract is surest of.

1. Light (preprocess.py): a dark or unevenly lit page is flattened, faint print stretched to black
   on white; an evenly lit page of dark print is left alone.
2. Layout analysis (needed for recognition anyway) gives Tesseract's skew estimate, the text lines'
   size and whether lines run vertically (a page on its side: OSD turns it before reading).
3. The skew estimate is checked against the ink's projection profile (deskew.py) and only a
   correction that sharpens it is applied — small angles included, a wrong sign never.
4. The page is rescaled when its capitals are far from 20–35 px, and Tesseract is told the
   resolution the text implies rather than a DPI tag that may be wrong; then, at that size, a
   speckled page (fax, halftone) is smoothed by a median.
5. A page of columns side by side (a newspaper, a sheet of tickets: regions.py) is read one region
   at a time, each levelled and sized on its own (steps 2–4 again), in reading order: Tesseract's
   own layout cut such pages' lines in pieces and joined pieces across the columns.
6. The reading's confidence is lowered by the share of text-like area that produced no words, and
   its blocks are put in reading order (layout.py).
7. A reading below RETRY_BELOW gets, up to PAGE_RETRIES second readings: the page without the
   deskew (when one was applied), an orientation check (upside down reads as garbage), the page
   through a 3×3 median (a shadow's grain below the speckle measure, when not already smoothed),
   Sauvola's local threshold (speckle, shadows), and sparse-text segmentation when much text
   went unread (forms, labels; not on a page of columns). The most confident reading wins. The
   budget is a count of readings, so a page reads the same on a busy machine as on an idle one.
8. On a page read below SECOND_READING_BELOW, the lines of the winning reading that Tesseract was
   unsure of are read again by a second recogniser (line_reader.py: PP-OCRv6), which replaces a
   line when it is surer of it; a replaced line's misread words are put back (spelling.py) as
   Tesseract's were.
9. A page whose text is clearly in another language we have Tesseract data for (languages.py: a
   French referral, a Dutch recipe) is read again from step 2 with that language first.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageOps

from veterinaria.app.documents.read.deskew import check_skew
from veterinaria.app.documents.read.engine import OcrEngine, Reading
from veterinaria.app.documents.read.images import limit_side, to_grey
from veterinaria.app.documents.read.languages import page_language, tidy
from veterinaria.app.documents.read.layout import adjusted_confidence, missed_text_share, reading_order
from veterinaria.app.documents.read.line_reader import Line, reread_lines
from veterinaria.app.documents.read.preprocess import (
    Preparation,
    cap_height,
    effective_dpi,
    prepare_light,
    remove_speckle,
    rescale,
    text_scale,
)
from veterinaria.app.documents.read.regions import text_regions
from veterinaria.app.documents.read.results import PageText

#: Above MAX_DESKEW it is not a scan's skew but a layout.
MAX_DESKEW = 10.0
#: Pages read with less confidence than this get the second strategies (clean upright pages read
#: 0.9+, and pay for none).
RETRY_BELOW = 0.8
#: A reading that left this share of the text-like area unread is tried with sparse segmentation.
SPARSE_WHEN_MISSED = 0.15
#: A page gets at most this many second readings: a hopeless page does not hold a worker for
#: minutes (each reading is bounded by MAX_OCR_PIXELS). A count, not a time: a page gets the same
#: strategies, and so the same text, on a busy machine as on an idle one (a budget in CPU time did
#: not quite: under load a thread's CPU time grows too, and a receipt lost its last strategy).
PAGE_RETRIES = 4
#: A region of a page of columns read with less confidence than this is left out of the page's text.
TEXTURE_BELOW = 0.15
#: Only a page read with less confidence than this gets the second reading of its unsure lines
#: (line_reader.py). It costs about as much as Tesseract's own reading (PP-OCRv6 takes ~70 ms a
#: line where Tesseract takes ~18), so on a clean page, which reads 0.9+, it would break the
#: pipeline's budget of +15 % over the bare engine; there it also fixed a few names and units
#: ("Simha" → "Simba", "x10”6/uL" → "x10^6/µL"): docs/architecture.md, figures.
SECOND_READING_BELOW = 0.9


def level(image: Image.Image, angle: float) -> Image.Image:
    """The page turned `angle` degrees counter-clockwise, the uncovered corners white paper."""
    return image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


@dataclass
class _Attempt:
    page: PageText
    missed: float  # share of text-like area without words
    regional: bool = False  # read one region at a time
    smoothed: bool = False  # read through a 3×3 median
    unsure: tuple[Line, ...] = ()  # its lines Tesseract was unsure of (line_reader.py)


def _page_text(reading: Reading, image: Image.Image, *, rotated: int, deskew: float) -> _Attempt:
    # no blocks: nothing was read, and the confidence is already 0
    missed = missed_text_share(image, reading.words) if reading.blocks else 0.0
    text = reading.text
    if reading.blocks:
        boxes = [block.box for block in reading.blocks]
        text = "\n\n".join(reading.blocks[i].text.strip("\n") for i in reading_order(boxes))
    confidence = adjusted_confidence(reading.confidence, missed)
    page = PageText(number=0, text=_tidy(text), confidence=round(confidence, 4), source="ocr",
                    rotated=rotated, deskew=round(deskew, 2))
    return _Attempt(page=page, missed=missed, unsure=reading.unsure)


def _read_upright(image: Image.Image, engine: OcrEngine, dpi: int | None, *, rotated: int = 0,
                  may_turn: bool = True, thresholding: str = "otsu", sparse: bool = False,
                  trust_skew: bool = True, by_region: bool = True, smooth: bool = False) -> _Attempt:
    layout = engine.analyse(image, dpi, thresholding=thresholding)
    if layout.vertical and may_turn:
        # Latin text in vertical lines is a page on its side: turn it before reading, not after
        turn = engine.orientation(image)
        if turn:
            image, rotated = image.rotate(turn, expand=True), turn
            layout = engine.analyse(image, dpi, thresholding=thresholding)
    angle = check_skew(image, layout.skew).angle if trust_skew else 0.0
    if abs(angle) > MAX_DESKEW:
        angle = 0.0
    cap = cap_height(layout.lines, layout.skew)
    used_dpi = effective_dpi(dpi, cap)
    factor = text_scale(cap, image.width * image.height)
    if angle:
        image = level(image, angle)
    if factor != 1.0:
        image = rescale(image, factor)
        used_dpi = round(used_dpi * factor) if used_dpi else None
    preparation = Preparation()
    image = remove_speckle(image, preparation, force=smooth)
    smoothed = bool(preparation.steps)
    # columns side by side (a newspaper, a sheet of tickets) are read one region at a time
    boxes = text_regions(image, cap * factor if cap else None) if by_region and not sparse else []
    if boxes:
        attempt = _read_regions(image, boxes, engine, used_dpi, margin=round(cap * factor), rotated=rotated,
                                deskew=angle, thresholding=thresholding)
    else:
        reading = engine.recognize(image, used_dpi, thresholding=thresholding, sparse=sparse)
        attempt = _page_text(reading, image, rotated=rotated, deskew=angle)
    attempt.smoothed = smoothed
    return attempt


def _read_regions(image: Image.Image, boxes: list[tuple[int, int, int, int]], engine: OcrEngine, dpi: int | None,
                  *, margin: int, rotated: int, deskew: float, thresholding: str) -> _Attempt:
    """The page read one region at a time (regions.py), each levelled and sized on its own, in the regions' order.

    The page's confidence is its regions' (each already lowered by its own unread text), weighted by
    the characters each produced.
    """
    # Tesseract loses letters that touch the image's edge: each region gets a margin of white paper
    parts = [_read_upright(ImageOps.expand(image.crop(box), border=margin, fill=255), engine, dpi, rotated=0,
                           may_turn=False, thresholding=thresholding, by_region=False)
             for box in boxes]
    missed = sum(part.missed * (box[2] - box[0]) * (box[3] - box[1]) for part, box in zip(parts, boxes, strict=True))
    missed /= sum((box[2] - box[0]) * (box[3] - box[1]) for box in boxes)
    # a region read with next to no confidence is texture, not text (the table a receipt lies on)
    parts = [part for part in parts if part.page.confidence >= TEXTURE_BELOW]
    weight = sum(len(part.page.text) for part in parts)
    confidence = sum(len(part.page.text) * part.page.confidence for part in parts) / weight if weight else 0.0
    text = "\n\n".join(part.page.text for part in parts if part.page.text)
    page = PageText(number=0, text=text, confidence=round(confidence, 4), source="ocr", rotated=rotated,
                    deskew=round(deskew, 2))
    unsure = tuple(line for part in parts for line in part.unsure)
    return _Attempt(page=page, missed=missed, regional=True, unsure=unsure)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\f", "").splitlines()]
    return "\n".join(lines).strip("\n")


def read_page(image: Image.Image, *, number: int, engine: OcrEngine, dpi: int | None = None) -> PageText:
    """The text of one page image, prepared, turned upright and levelled first when needed."""
    image, dpi = limit_side(to_grey(image), dpi)
    image = prepare_light(image, Preparation())
    page = _best_reading(image, engine, dpi)
    language = page_language(page.text)
    other = engine.in_language(language) if language else None
    if other is not None:
        # a French or Dutch page (languages.py): read again from the start with its own language
        # first — every strategy, since a reading's strategy and its language are not chosen apart
        again = _best_reading(image, other, dpi)
        if again.confidence >= page.confidence:
            page = again
            page.text = tidy(page.text, language)
    page.number = number
    return page


def _best_reading(image: Image.Image, engine: OcrEngine, dpi: int | None) -> PageText:
    """The page read the first way and, when that is poor, the other ways; then its unsure lines
    read again (module docstring, 7–8)."""
    best = _read_upright(image, engine, dpi)
    retries = 0

    def poor() -> bool:
        return best.page.confidence < RETRY_BELOW and retries < PAGE_RETRIES

    def keep_better(attempt: _Attempt) -> None:
        nonlocal best, retries
        retries += 1
        if attempt.page.confidence > best.page.confidence:
            best = attempt

    if poor() and best.page.deskew:
        # the profile was sure, but Tesseract reads worse: a deskew that lowers quality is undone
        keep_better(_read_upright(image, engine, dpi, trust_skew=False))
    if poor() and not best.page.rotated:
        turn = engine.orientation(image)
        if turn:
            keep_better(_read_upright(image.rotate(turn, expand=True), engine, dpi, rotated=turn, may_turn=False))
    upright = image.rotate(best.page.rotated, expand=True) if best.page.rotated else image
    if poor() and not best.smoothed:
        # a shadow's or a worn print's grain that the speckle measure let through: Otsu turns its
        # darker dots into stray quotes and letters, a 3×3 median removes them
        keep_better(_read_upright(upright, engine, dpi, rotated=best.page.rotated, may_turn=not best.page.rotated,
                                  smooth=True))
    if poor():
        # speckle or uneven light: one threshold for the whole page can lose all the text, a local one keeps it
        keep_better(_read_upright(upright, engine, dpi, rotated=best.page.rotated, may_turn=not best.page.rotated,
                                  thresholding="sauvola"))
    if poor() and best.missed > SPARSE_WHEN_MISSED and not best.regional:
        # (a page of columns is not: sparse segmentation reads across them, and a region's own
        # pictures and barcodes count as unread text there)
        keep_better(_read_upright(upright, engine, dpi, rotated=best.page.rotated, may_turn=False, sparse=True))
    if best.page.confidence < SECOND_READING_BELOW and best.unsure:
        best.page.text = reread_lines(best.page.text, best.unsure, engine.respell)
    return best.page
