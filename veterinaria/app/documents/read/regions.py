"""A page cut into its regions of text by the white space between them: columns, the tickets of a
sheet — so that each is read on its own.

Tesseract's own layout analysis is fragile on real pages: on a faded two-column newspaper it cut
lines in pieces and joined pieces of both columns into one line; on a sheet of nine lottery
tickets it read across the tickets. Read one region at a time, it has nothing to confuse.

The cut is a recursive XY-cut on a coarse map of the ink (cells about a quarter of a capital
high, ink by Otsu's threshold so that faded print counts): a region is split at its widest white
gutter (top to bottom) or, when it has none, at a rule across it or its widest white band (side to
side), and each part is cut again. Thin rules (the lines a newspaper prints between columns and
articles) and dots are not ink for this purpose, or no gutter would ever be white. A gutter only
counts between two sides wide enough to be text of their own, in a region tall enough to be
columns, and when the lines on its two sides do not begin on the same rows (a table's columns,
or a paragraph's spaces that happen to line up, are one set of lines, read best as one). A band
or a rule only counts where it shows columns, or where the band is wide enough to part two things
(tickets on a sheet): paragraphs one above the other stay together. A page with no gutter at all
gives no regions: Tesseract's own layout reads stacked blocks well.

The regions come out in reading order: left before right, top before bottom (a grid of tickets
column by column).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

Box = tuple[int, int, int, int]

#: Cells per capital height of the map.
CELLS_PER_CAP = 4
#: A gutter between columns at least this many capitals wide (after rules are taken out)...
MIN_GUTTER_CAPS = 0.6
#: ...with at least this many capitals of width on each side (about 14 characters of body text).
MIN_COLUMN_CAPS = 8.0
#: ...in a region at least this many capitals high (about ten lines: columns are long, and a short
#: block with a space that happens to line up is a form or a table, read best as one)...
MIN_COLUMN_LINES = 16.0
#: ...where the lines on one side are not the lines on the other: past this share of lines beginning
#: on the same row on both sides, it is one set of lines (a table)...
ALIGNED_LINES = 0.5
#: ...and ink in at most this share of the region's rows along it.
GUTTER_CROSSED = 0.01
#: A band between regions at least this many capitals high: more than a paragraph's spacing...
MIN_BAND_CAPS = 2.0
#: ...and at least this many to part two things that are read apart even without columns.
APART_CAPS = 4.0
#: A rule across this share of a region's width cuts it, however close the text on either side.
RULED_BAND_SHARE = 0.6
#: A stroke at most this many cells thick is a rule or a dot, not text (text is one run of ink a
#: word long at this scale); a horizontal one at least RULE_CAPS capitals long is a rule.
RULE_CELLS = 2
RULE_CAPS = 4.0
#: Leaves smaller than this (capitals, both ways) are specks, not text.
MIN_REGION_CAPS = 1.0
#: More regions than this is a texture (a halftone picture), not a layout.
MAX_REGIONS = 60


def text_regions(page: Image.Image, cap: float | None) -> list[Box]:
    """The boxes (left, top, right, bottom, in the page's pixels) of its text regions, in reading order.

    A page without columns side by side (or whose text size is unknown) gives `[]`: nothing to cut.
    """
    if not cap or cap < 4:
        return []
    cell = max(1, round(cap / CELLS_PER_CAP))
    columns, rows = page.width // cell, page.height // cell
    if columns < 8 or rows < 8:
        return []
    limit = _otsu(page)
    dark = page.point(lambda value: 0 if value <= limit else 255)
    mean = np.asarray(dark.reduce(cell, box=(0, 0, columns * cell, rows * cell)), dtype=np.uint8)
    inked = mean < 250  # a cell with any real ink in it
    # what may cross a gutter: thin vertical strokes (a rule between columns, dashed or not) and
    # dots; what may cross a band: long thin horizontal rules
    length = max(4, round(RULE_CAPS * cap / cell))
    rules, vertical_rules = _long_lines(inked, length), _long_lines(inked.T, length).T
    narrow, flat = _short_runs(inked, RULE_CELLS), _short_runs(inked.T, RULE_CELLS).T
    for_gutters = inked & ~narrow & ~rules
    for_bands = inked & ~rules & ~vertical_rules & ~(narrow & flat)  # not a rule, not a dot
    ink = _InkMap(for_gutters=for_gutters, for_bands=for_bands, rules=rules, cap=cap / cell)
    if not ink.cut(0, 0, rows, columns) or len(ink.leaves) > MAX_REGIONS:
        return []  # blocks one above the other only: Tesseract's own layout reads those well
    pad = cell  # the ink's own edge: more would reach into a narrow gutter's other side
    return [(max(0, left * cell - pad), max(0, top * cell - pad), min(page.width, right * cell + pad),
             min(page.height, bottom * cell + pad)) for top, left, bottom, right in ink.leaves]


def _otsu(page: Image.Image) -> float:
    """The grey level that best separates ink from paper (Otsu's method on the page's histogram)."""
    counts = np.asarray(page.histogram()[:256], dtype=np.float64)
    levels = np.arange(256, dtype=np.float64)
    below = np.cumsum(counts)
    below_sum = np.cumsum(counts * levels)
    total, total_sum = below[-1], below_sum[-1]
    above = total - below
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (below_sum * total - total_sum * below) ** 2 / (below * above)
    return float(np.nanargmax(between[:-1]))


def _runs(line: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True in a 1-D boolean array."""
    padded = np.concatenate(([False], line, [False]))
    changes = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(changes[::2].tolist(), changes[1::2].tolist(), strict=True))


def _run_lengths(inked: np.ndarray) -> np.ndarray:
    """For each inked cell, the length of the run of ink along its row it belongs to (0 elsewhere)."""
    height, width = inked.shape
    padded = np.zeros((height, width + 1), dtype=bool)  # a blank cell ends every row's last run
    padded[:, :width] = inked
    flat = padded.ravel()
    starts = flat & ~np.concatenate(([False], flat[:-1]))
    runs = np.cumsum(starts) * flat  # each run numbered from 1, paper 0
    lengths = np.bincount(runs)
    lengths[0] = 0
    return lengths[runs].reshape(height, width + 1)[:, :width]


def _short_runs(inked: np.ndarray, longest: int) -> np.ndarray:
    """Cells in runs of ink, along each row, at most `longest` cells long: a rule's cross-section, a dot."""
    return inked & (_run_lengths(inked) <= longest)


def _long_lines(inked: np.ndarray, length: int) -> np.ndarray:
    """Cells of horizontal rules: runs, along a row, at least `length` cells long of ink at most
    RULE_CELLS thick (a descender touching the rule only breaks it in two)."""
    thin = _short_runs(inked.T, RULE_CELLS).T
    return thin & (_run_lengths(thin) >= length)


def _gaps(occupied: np.ndarray, minimum: float, margin: float) -> list[tuple[int, int]]:
    """Runs of empty positions at least `minimum` long with `margin` of ink on each side, widest first."""
    found = [(start, end) for start, end in _runs(~occupied)
             if start >= max(1, margin) and len(occupied) - end >= max(1, margin) and end - start >= minimum]
    return sorted(found, key=lambda gap: gap[0] - gap[1])


def _lines_run_across(region: np.ndarray, gap: tuple[int, int]) -> bool:
    """Whether the text on both sides of a gap is one set of lines — a table's columns, a paragraph
    with spaces that happen to line up — rather than two columns: most lines on the side with fewer
    begin on the same row as a line on the other (their tops are the capitals' and ascenders' line;
    their bottoms differ with descenders)."""
    left = _runs(region[:, :gap[0]].any(axis=1))
    right = _runs(region[:, gap[1]:].any(axis=1))
    if not left or not right:
        return False
    tops = np.array([top for top, _ in right])
    matched = sum(bool(np.any(np.abs(tops - top) <= 1)) for top, _ in left)
    return matched > ALIGNED_LINES * min(len(left), len(right))


@dataclass
class _InkMap:
    """The page's ink in cells, as each kind of cut sees it, and the leaves cut so far."""

    for_gutters: np.ndarray  # without dots, vertical rules and horizontal rules
    for_bands: np.ndarray  # without dots and rules
    rules: np.ndarray  # horizontal rules only
    cap: float  # capital height, in cells
    leaves: list[tuple[int, int, int, int]] = field(default_factory=list)  # (top, left, bottom, right), in cells

    def cut(self, top: int, left: int, bottom: int, right: int) -> int:
        """Cut the region into leaves, in reading order; the number of gutters it was cut at."""
        solid = self.for_gutters[top:bottom, left:right] & self.for_bands[top:bottom, left:right]
        rows, columns = np.flatnonzero(solid.any(axis=1)), np.flatnonzero(solid.any(axis=0))
        if rows.size == 0 or len(self.leaves) > MAX_REGIONS:
            return 0
        top, bottom = top + int(rows[0]), top + int(rows[-1]) + 1
        left, right = left + int(columns[0]), left + int(columns[-1]) + 1
        cap = self.cap
        if bottom - top < MIN_REGION_CAPS * cap and right - left < MIN_REGION_CAPS * cap:
            return 0  # a speck
        if bottom - top >= MIN_COLUMN_LINES * cap:
            # a gutter may be touched here and there (a letter's tail, a speck joined to a rule)
            crossings = self.for_gutters[top:bottom, left:right].sum(axis=0)
            gaps = _gaps(crossings > max(2, GUTTER_CROSSED * (bottom - top)), MIN_GUTTER_CAPS * cap, MIN_COLUMN_CAPS * cap)
            region = self.for_bands[top:bottom, left:right]
            gutter = next((gap for gap in gaps if not _lines_run_across(region, gap)), None)
            if gutter is not None:
                return 1 + self.cut(top, left, bottom, left + gutter[0]) + self.cut(top, left + gutter[1], bottom, right)
        # a rule across most of the region separates what is above it from what is below, however close;
        # so does a band of paper. Either is cut only where that shows columns, or where the band is
        # wide enough to part two things (tickets on a sheet): paragraphs one above the other are
        # Tesseract's to find, with the whole column as context.
        ruled = np.flatnonzero(self.rules[top:bottom, left:right].sum(axis=1) >= RULED_BAND_SHARE * (right - left))
        inside = [row for row in ruled.tolist() if MIN_REGION_CAPS * cap <= row < bottom - top - MIN_REGION_CAPS * cap]
        bands = _gaps(self.for_bands[top:bottom, left:right].any(axis=1), MIN_BAND_CAPS * cap, 0)
        split = (inside[0], inside[0] + 1) if inside else bands[0] if bands else None
        if split is not None:
            kept = len(self.leaves)
            gutters = self.cut(top, left, top + split[0], right) + self.cut(top + split[1], left, bottom, right)
            if gutters or split[1] - split[0] >= APART_CAPS * cap:
                return gutters
            del self.leaves[kept:]
        self.leaves.append((top, left, bottom, right))
        return 0
