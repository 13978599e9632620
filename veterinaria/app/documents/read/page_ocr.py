"""One page image to text: prepare it from what it measures, level it, recognise, and read it again
another way when the reading is poor — keeping whichever reading Tesseract is surest of.

1. Light (preprocess.py): a dark or unevenly lit page is flattened; an evenly lit one is left alone.
2. Layout analysis (needed for recognition anyway) gives Tesseract's skew estimate, the text lines'
   size and whether lines run vertically (a page on its side: OSD turns it before reading).
3. The skew estimate is checked against the ink's projection profile (deskew.py) and only a
   correction that sharpens it is applied — small angles included, a wrong sign never.
4. The page is rescaled when its capitals are far from 20–35 px, and Tesseract is told the
   resolution the text implies rather than a DPI tag that may be wrong; then, at that size, a
   speckled page (fax, halftone) is smoothed by a median.
5. The reading's confidence is lowered by the share of text-like area that produced no words, and
   its blocks are put in reading order (layout.py).
6. A reading below RETRY_BELOW gets, while the page's time budget lasts: the page without the
   deskew (when one was applied), an orientation check (upside down reads as garbage), Sauvola's
   local threshold (speckle, shadows), and sparse-text segmentation when much text went unread
   (forms, labels). The most confident reading wins.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PIL import Image

from veterinaria.app.documents.read.deskew import check_skew
from veterinaria.app.documents.read.engine import OcrEngine, Reading
from veterinaria.app.documents.read.images import limit_side, to_grey
from veterinaria.app.documents.read.layout import adjusted_confidence, missed_text_share, reading_order
from veterinaria.app.documents.read.preprocess import (
    Preparation,
    cap_height,
    effective_dpi,
    prepare_light,
    remove_speckle,
    rescale,
    text_scale,
)
from veterinaria.app.documents.read.results import PageText

#: Above MAX_DESKEW it is not a scan's skew but a layout.
MAX_DESKEW = 10.0
#: Pages read with less confidence than this get the second strategies (clean upright pages read
#: 0.9+, and pay for none).
RETRY_BELOW = 0.8
#: A reading that left this share of the text-like area unread is tried with sparse segmentation.
SPARSE_WHEN_MISSED = 0.15
#: Second strategies start only while the page has spent less than this many first readings'
#: time (and at least PAGE_BUDGET_MIN seconds): a hopeless page does not hold a worker for minutes.
PAGE_BUDGET_READINGS = 4.0
PAGE_BUDGET_MIN = 5.0


def level(image: Image.Image, angle: float) -> Image.Image:
    """The page turned `angle` degrees counter-clockwise, the uncovered corners white paper."""
    return image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


@dataclass
class _Attempt:
    page: PageText
    missed: float  # share of text-like area without words


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
    return _Attempt(page=page, missed=missed)


def _read_upright(image: Image.Image, engine: OcrEngine, dpi: int | None, *, rotated: int = 0,
                  may_turn: bool = True, thresholding: str = "otsu", sparse: bool = False,
                  trust_skew: bool = True) -> _Attempt:
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
    image = remove_speckle(image, Preparation())
    reading = engine.recognize(image, used_dpi, thresholding=thresholding, sparse=sparse)
    return _page_text(reading, image, rotated=rotated, deskew=angle)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\f", "").splitlines()]
    return "\n".join(lines).strip("\n")


def read_page(image: Image.Image, *, number: int, engine: OcrEngine, dpi: int | None = None) -> PageText:
    """The text of one page image, prepared, turned upright and levelled first when needed."""
    started = time.perf_counter()
    image, dpi = limit_side(to_grey(image), dpi)
    image = prepare_light(image, Preparation())
    best = _read_upright(image, engine, dpi)
    budget = max(PAGE_BUDGET_MIN, PAGE_BUDGET_READINGS * (time.perf_counter() - started))

    def poor() -> bool:
        return best.page.confidence < RETRY_BELOW and time.perf_counter() - started < budget

    def keep_better(attempt: _Attempt) -> None:
        nonlocal best
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
    if poor():
        # speckle or uneven light: one threshold for the whole page can lose all the text, a local one keeps it
        keep_better(_read_upright(upright, engine, dpi, rotated=best.page.rotated, may_turn=not best.page.rotated,
                                  thresholding="sauvola"))
    if poor() and best.missed > SPARSE_WHEN_MISSED:
        keep_better(_read_upright(upright, engine, dpi, rotated=best.page.rotated, may_turn=False, sparse=True))
    best.page.number = number
    return best.page
