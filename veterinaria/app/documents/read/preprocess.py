"""Per-page preparation chosen from what the page measures, not one recipe for every page.

- Text size: the text lines Tesseract's layout finds give the capital height in pixels; a page
  whose body text is far from where Tesseract reads best (about 20–35 px capitals) is rescaled,
  and the resolution Tesseract is told comes from the text too, whatever the file's DPI tag says
  (72 dpi on a 300 dpi scan, none on a phone photo).
- Light: a background estimated at low resolution (the page with its text removed by a maximum
  filter); a dark or unevenly lit page (a phone photo, a shadow) is divided by it, so the paper is
  white everywhere and one threshold fits the whole page. An evenly lit page is left as it is.
- Contrast: faint print (microfilm, a worn ribbon), whose darkest ink is close to its paper, has
  its levels stretched to black on white: Tesseract reads it with more confidence and fewer errors.
- Speckle: the share of pixels that a 3×3 median would change, measured once the text has its
  reading size; a fax's or a halftone's dots are smoothed by that median, a clean page is not touched.
The page stays greyscale: Tesseract thresholds it (Otsu, or Sauvola on a retry), which keeps the
anti-aliased edges that a fixed binarisation here would throw away.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageFilter

#: Capital height over the height of a text line's box (ascenders to descenders), measured on
#: DejaVu Sans and Liberation pages: 0.72–0.76.
CAP_PER_LINE = 0.74
#: Where Tesseract's LSTM reads best (capital height, pixels), and where a rescale aims.
CAP_RANGE = (20.0, 38.0)
CAP_TARGET = 28.0
#: Body text is about 10 pt; its capitals about 7 pt (7/72 inch).
BODY_CAP_INCHES = 7 / 72
#: A DPI tag is believed when it makes the body text between these sizes (points).
PLAUSIBLE_BODY_PT = (6.0, 16.0)
#: Fewer text lines than this say nothing reliable about the text size.
MIN_LINES = 3
#: Upscaling stops here: more pixels than this costs time without reading better.
MAX_UPSCALED_PIXELS = 16_000_000
#: Background brightness below this median (of 255) is a dark photo...
DARK_BACKGROUND = 170
#: ...and a spread (5th to 95th percentile) wider than this is uneven light.
UNEVEN_BACKGROUND = 45
#: Darkest ink (0.5th percentile) this close to the paper (90th), of 255, is faint print (microfilm,
#: a worn ribbon, a pale photocopy): its levels are stretched to black on white. Print on white paper
#: spans 200+; the faint 1914 newspaper in bench/ocr_real.py, 73. Below FAINT_CONTRAST[0] there is
#: no ink at all (a blank page, its scanner noise): stretching would make the noise text.
FAINT_CONTRAST = (40, 150)
#: Share of pixels a 3×3 median changes by more than SPECK_DELTA: past it the page is speckled.
SPECKLED = 0.02
SPECK_DELTA = 80


@dataclass
class Preparation:
    """What was done to a page, for its PageText and the logs."""

    steps: list[str] = field(default_factory=list)
    cap_height: float | None = None  # capital height (px) measured before any rescale
    dpi: int | None = None  # the resolution Tesseract was told


def cap_height(lines: Sequence[tuple[int, int]], skew: float = 0.0) -> float | None:
    """Median capital height (px) from text lines' (width, height), the tilt's share taken off."""
    slope = abs(np.tan(np.radians(skew)))
    heights = [height - width * slope for width, height in lines if width > 2 * height]
    heights = [h for h in heights if h > 4]
    if len(heights) < MIN_LINES:
        return None
    return statistics.median(heights) * CAP_PER_LINE


def text_scale(cap: float | None, pixels: int) -> float:
    """Factor to rescale the page by so that its capitals land in CAP_RANGE (1.0: leave it)."""
    if cap is None or CAP_RANGE[0] <= cap <= CAP_RANGE[1]:
        return 1.0
    factor = CAP_TARGET / cap
    if factor > 1:
        factor = min(factor, (MAX_UPSCALED_PIXELS / pixels) ** 0.5, 4.0)
    return factor if abs(factor - 1) > 0.1 else 1.0


def effective_dpi(tag: int | None, cap: float | None) -> int | None:
    """The DPI tag when the text's size agrees with it, else the resolution the text implies."""
    if cap is None:
        return tag
    if tag:
        body_pt = cap / tag * 72 / 0.7  # capitals are about 0.7 of the type size
        if PLAUSIBLE_BODY_PT[0] <= body_pt <= PLAUSIBLE_BODY_PT[1]:
            return tag
    return max(70, min(1200, round(cap / BODY_CAP_INCHES)))


def rescale(image: Image.Image, factor: float) -> Image.Image:
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS if factor > 1 else Image.Resampling.BOX)


def background(image: Image.Image) -> Image.Image:
    """The paper without its text, about 300 px on its longer side: text strokes vanish under a maximum filter."""
    factor = max(1, max(image.size) // 300)
    small = image.reduce(factor) if factor > 1 else image
    return small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(4))


def light_signals(image: Image.Image) -> tuple[float, float]:
    """(median, 5th-to-95th percentile spread) of the page's background brightness."""
    paper = np.asarray(background(image), dtype=np.float32)
    low, middle, high = np.percentile(paper, [5, 50, 95])
    return float(middle), float(high - low)


def flatten_light(image: Image.Image) -> Image.Image:
    """The page divided by its background: white paper everywhere, the text as dark as it was against it."""
    paper = background(image).resize(image.size, Image.Resampling.BILINEAR)
    page = np.asarray(image, dtype=np.float32)
    level = np.maximum(np.asarray(paper, dtype=np.float32), 1.0)
    flat = np.clip(page / level * 255.0, 0, 255)
    # stretch: what was the darkest ink becomes black again after the division lifted it
    darkest = float(np.percentile(flat, 0.5))
    if darkest < 200:
        flat = np.clip((flat - darkest) * (255.0 / (255.0 - darkest)), 0, 255)
    return Image.fromarray(flat.astype(np.uint8), "L")


def speckle_share(image: Image.Image) -> float:
    """Share of pixels, in a central crop, that a 3×3 median changes a lot (isolated dots)."""
    width, height = image.size
    side = min(400, width, height)
    left, top = (width - side) // 2, (height - side) // 2
    crop = image.crop((left, top, left + side, top + side))
    smooth = crop.filter(ImageFilter.MedianFilter(3))
    change = np.abs(np.asarray(crop, dtype=np.int16) - np.asarray(smooth, dtype=np.int16))
    return float((change > SPECK_DELTA).mean())


def ink_and_paper(image: Image.Image) -> tuple[int, int]:
    """(0.5th, 90th) percentile of the page's grey levels: its darkest ink and its paper."""
    counts = np.cumsum(image.histogram())
    ink, paper = np.searchsorted(counts, [0.005 * counts[-1], 0.9 * counts[-1]])
    return int(ink), int(paper)


def stretch_levels(image: Image.Image, ink: int, paper: int) -> Image.Image:
    """The page's levels stretched so that `ink` is black and `paper` white."""
    scale = 255.0 / max(paper - ink, 1)
    return image.point([max(0, min(255, round((level - ink) * scale))) for level in range(256)])


def prepare_light(image: Image.Image, preparation: Preparation) -> Image.Image:
    """The page with dark or uneven light flattened and faint print darkened, when it measures so."""
    middle, spread = light_signals(image)
    if middle < DARK_BACKGROUND or spread > UNEVEN_BACKGROUND:
        image = flatten_light(image)
        preparation.steps.append(f"background(median={middle:.0f},spread={spread:.0f})")
    ink, paper = ink_and_paper(image)
    if FAINT_CONTRAST[0] <= paper - ink < FAINT_CONTRAST[1]:
        image = stretch_levels(image, ink, paper)
        preparation.steps.append(f"levels(ink={ink},paper={paper})")
    return image


def remove_speckle(image: Image.Image, preparation: Preparation, *, force: bool = False) -> Image.Image:
    """The page smoothed by a 3×3 median when it is speckled (or `force`: a second strategy's choice).

    Measured once the text has its reading size: on tiny text every stroke is a "speck".
    """
    speckle = speckle_share(image)
    if speckle > SPECKLED or force:
        image = image.filter(ImageFilter.MedianFilter(3))
        preparation.steps.append(f"median({speckle:.3f})")
    return image
