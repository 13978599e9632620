"""One page image to text: level slight skew, recognise, and turn the page right if it was not.

Orientation detection costs about half a recognition, so it runs only when it can pay off. The
layout analysis that recognition needs anyway shows a page on its side (vertical lines): OSD
turns it before reading. An upright page reads with high confidence and is done; a page read
with low confidence (upside down reads as garbage) asks OSD which way is up, and if OSD is clear
the turned page is read again and the better reading kept. A page still read badly is read once
more with Sauvola's local threshold, which survives speckle and shadows that lose Otsu the text.
"""

from __future__ import annotations

from PIL import Image

from veterinaria.app.documents.read.engine import OcrEngine
from veterinaria.app.documents.read.images import limit_side, to_grey
from veterinaria.app.documents.read.results import PageText

#: Below this the text is straight enough; above MAX_DESKEW it is not a scan's skew but a layout.
MIN_DESKEW = 0.5
MAX_DESKEW = 10.0
#: Pages read with less confidence than this get an orientation check, then a second reading with
#: a local threshold (clean upright pages read 0.9+, and pay for neither).
RETRY_BELOW = 0.8


def level(image: Image.Image, angle: float) -> Image.Image:
    """The page turned `angle` degrees counter-clockwise, the uncovered corners white paper."""
    return image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


def _read_upright(image: Image.Image, engine: OcrEngine, dpi: int | None, *, rotated: int = 0,
                  may_turn: bool = True, thresholding: str = "otsu") -> PageText:
    layout = engine.analyse(image, dpi, thresholding=thresholding)
    if layout.vertical and may_turn:
        # Latin text in vertical lines is a page on its side: turn it before reading, not after
        turn = engine.orientation(image)
        if turn:
            image, rotated = image.rotate(turn, expand=True), turn
            layout = engine.analyse(image, dpi, thresholding=thresholding)
    angle = layout.skew
    if MIN_DESKEW <= abs(angle) <= MAX_DESKEW:
        image = level(image, angle)
    else:
        angle = 0.0
    text, confidence = engine.recognize(image, dpi, thresholding=thresholding)
    return PageText(number=0, text=_tidy(text), confidence=round(confidence, 4), source="ocr",
                    rotated=rotated, deskew=round(angle, 2))


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\f", "").splitlines()]
    return "\n".join(lines).strip("\n")


def read_page(image: Image.Image, *, number: int, engine: OcrEngine, dpi: int | None = None) -> PageText:
    """The text of one page image, turned upright and levelled first when needed."""
    image, dpi = limit_side(to_grey(image), dpi)
    reading = _read_upright(image, engine, dpi)
    if reading.confidence < RETRY_BELOW and not reading.rotated:
        turn = engine.orientation(image)
        if turn:
            second = _read_upright(image.rotate(turn, expand=True), engine, dpi, rotated=turn, may_turn=False)
            if second.confidence > reading.confidence:
                reading = second
    if reading.confidence < RETRY_BELOW:
        # speckle or uneven light: one threshold for the whole page can lose all the text, a local one keeps it
        upright = image.rotate(reading.rotated, expand=True) if reading.rotated else image
        third = _read_upright(upright, engine, dpi, rotated=reading.rotated, may_turn=not reading.rotated,
                              thresholding="sauvola")
        if third.confidence > reading.confidence:
            reading = third
    reading.number = number
    return reading
