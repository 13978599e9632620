"""What a recognition says about the page's layout: the order to read its blocks in, and how much of
the text on the page produced no words at all.

Reading order. Tesseract returns text blocks in an order that, on real pages, sometimes puts a
heading between two columns or a line above its paragraph. Blocks are put in order again the way a
person reads: when a vertical gutter separates the blocks, the blocks that cross it (a title over
both columns) cut the page into bands, and each band is read column by column, left to right, each
column top to bottom (columns within columns the same way); otherwise top to bottom.

Lost text. Tesseract's confidence is the mean over the words it read; lines it lost entirely (a
wrong deskew, a shadow) weigh nothing, so half a page lost could still report 0.86. Here the page
is cut into cells; a cell with the ink density of text that no read word
covers is text that produced nothing, and the page's confidence is lowered by that share.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

Box = tuple[int, int, int, int]

#: Cells this share of the page's longer side: about one text line high on an A4 page.
CELL_SHARE = 1 / 100
#: Ink density of a cell holding text: below it is a speck or a rule, above it a picture or a black bar.
TEXT_INK = (0.04, 0.45)
#: Grey darker than this (of 255; or 65 below the paper when it is greyer) is ink, whatever
#: Tesseract's threshold did with it.
DARKER_THAN_PAPER = 190
#: A share of unread text below this is a logo, a signature or a stamp, not lost lines.
TOLERATED_MISS = 0.08


def reading_order(boxes: Sequence[Box]) -> list[int]:
    """Indices of `boxes` (left, top, right, bottom) in reading order (see the module's docstring)."""
    return _order(list(range(len(boxes))), boxes)


def _gutter(indices: list[int], boxes: Sequence[Box]) -> int | None:
    """An x that separates the blocks into two columns, crossed only by a few spanning blocks."""
    if len(indices) < 2:
        return None
    left = min(boxes[i][0] for i in indices)
    right = max(boxes[i][2] for i in indices)
    width = right - left
    if width <= 0:
        return None
    total_height = sum(boxes[i][3] - boxes[i][1] for i in indices)
    best, best_cover = None, None
    edges = sorted({boxes[i][2] for i in indices} | {boxes[i][0] for i in indices})
    for x in edges:
        if not left + 0.15 * width <= x <= right - 0.15 * width:
            continue
        x += 1  # just past a block's edge: the gap begins there
        crossing = [i for i in indices if boxes[i][0] < x < boxes[i][2]]
        before = [i for i in indices if boxes[i][2] <= x]
        after = [i for i in indices if boxes[i][0] >= x]
        if not before or not after:
            continue
        # each side must be a column of text, not a lone label beside a paragraph
        side_height = min(sum(boxes[i][3] - boxes[i][1] for i in side) for side in (before, after))
        if side_height < 0.2 * total_height:
            continue
        cover = sum(boxes[i][3] - boxes[i][1] for i in crossing)
        if cover <= 0.25 * total_height and (best_cover is None or cover < best_cover):
            best, best_cover = x, cover
    return best


def _order(indices: list[int], boxes: Sequence[Box]) -> list[int]:
    by_top = sorted(indices, key=lambda i: (boxes[i][1], boxes[i][0]))
    x = _gutter(indices, boxes)
    if x is None:
        return by_top
    spanning = [i for i in by_top if boxes[i][0] < x < boxes[i][2]]
    ordered: list[int] = []
    band: list[int] = []
    for index in by_top:
        if index in spanning:
            ordered += _read_band(band, boxes, x) + [index]
            band = []
        else:
            band.append(index)
    return ordered + _read_band(band, boxes, x)


def _read_band(band: list[int], boxes: Sequence[Box], x: int) -> list[int]:
    if not band:
        return []
    left = [i for i in band if boxes[i][2] <= x]
    right = [i for i in band if boxes[i][0] >= x]
    if not left or not right:  # a band on one side only: smaller than the page, so this ends
        return _order(band, boxes)
    return _order(left, boxes) + _order(right, boxes)


def missed_text_share(page: Image.Image | None, words: Sequence[Box]) -> float:
    """Share (0–1) of the page's text-like cells that no recognised word covers.

    `page` is the greyscale page Tesseract read. Ink is what is clearly darker than its paper, not
    what Tesseract's threshold kept, because text that threshold dropped (a blurred, faded or
    shadowed part) is lost text too.
    """
    if page is None:
        return 0.0
    cell = max(8, round(max(page.size) * CELL_SHARE))
    columns, rows = page.width // cell, page.height // cell
    if columns == 0 or rows == 0:
        return 0.0
    paper = float(np.percentile(np.asarray(page.reduce(cell)), 90))
    limit = min(DARKER_THAN_PAPER, paper - 65)
    ink = page.point(lambda value: 0 if value < limit else 255)
    # Pillow's reduce averages each cell in C: the page is never copied at full size into numpy
    grey = ink.reduce(cell, box=(0, 0, columns * cell, rows * cell))  # a crop would copy the page
    density = 1.0 - np.asarray(grey, dtype=np.float32) / 255.0
    text_like = (density >= TEXT_INK[0]) & (density <= TEXT_INK[1])
    total = int(text_like.sum())
    if total == 0:
        return 0.0
    covered = np.zeros_like(text_like)
    for left, top, right, bottom in words:  # a cell a word touches, and its neighbours, are read
        covered[max(0, top // cell - 1): bottom // cell + 2, max(0, left // cell - 1): right // cell + 2] = True
    return float((text_like & ~covered).sum()) / total


def adjusted_confidence(confidence: float, missed: float) -> float:
    """Tesseract's confidence less the share of text-like area beyond a stamp's that produced no words."""
    return max(0.0, confidence * (1.0 - max(0.0, missed - TOLERATED_MISS)))
