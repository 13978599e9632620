"""How crooked a page's text lines are, measured from the ink itself and checked before it is used.

Tesseract's layout gives a skew estimate, but on real pages it can be wrong in sign (a newspaper
clipping levelled by −1.0° when it needed +0.5° lost half its lines). So the estimate is only a
candidate: every candidate angle is scored by the sharpness of the page's horizontal projection
profile — when the text lines are level, each line's ink falls on the same rows and the profile
alternates sharply between inked rows and the white between lines; a wrong turn smears it. The page
is turned only by the angle that sharpens the profile clearly more than leaving it alone does.

The profile of a tilted page is computed without turning any pixels: the page is cut into narrow
vertical strips, each strip's row profile is taken once, and a tilt is tried by shifting each
strip's profile by its offset × tan(tilt) before adding them up (cheap enough to try hundreds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

#: Narrow enough that a line tilted 10° drifts little within one strip of an A4 page.
STRIPS = 32
#: The widest skew searched (past it, it is a layout, not a crooked scan).
MAX_SKEW = 10.0
#: A correction is kept only if it sharpens the profile by this much over the page as it is:
#: on dense text a real 0.3° skew gains 5–20 %, noise on a level page well under 1 %.
MIN_GAIN = 0.02
#: Below this the page is as level as it can be measured.
MIN_ANGLE = 0.1
#: Rows of the profile at most: an A4 page at 300 dpi is measured at 150 rows an inch, still a
#: row's shift at the page's edge for 0.1°; the measurement costs about 1 % of a recognition.
PROFILE_ROWS = 1800


@dataclass(frozen=True)
class SkewCheck:
    angle: float  # degrees to turn counter-clockwise (PIL's `rotate` argument); 0.0 = leave it
    gain: float  # how much sharper the profile is at `angle` than as it is (0.1 = 10 %)
    estimate_sharpness: float  # sharpness at the engine's estimate relative to as-is (1.0 = same)


class Profiles:
    """One page's per-strip row profiles of ink, ready to be scored at any tilt."""

    def __init__(self, image: Image.Image) -> None:
        # Pillow's reduce averages each strip's rows in C: the page is never copied at full size.
        # Paper that is not white adds the same to every row, which the row-to-row changes ignore.
        strip = max(1, image.width // STRIPS)
        self.row_step = max(1, image.height // PROFILE_ROWS)
        used = strip * (image.width // strip)
        means = image.reduce((strip, self.row_step), box=(0, 0, used, image.height))  # a crop would copy the page
        self.strips = (255.0 - np.asarray(means, dtype=np.float32)).T.copy()  # (strips, rows)
        self.centres = ((np.arange(self.strips.shape[0]) + 0.5) * strip - used / 2) / self.row_step
        self.inked = float(self.strips.sum())

    def coarser(self, factor: int) -> Profiles:
        """The same profiles with `factor` rows summed into one: for the coarse search, 4× cheaper."""
        rows = self.strips.shape[1] // factor * factor
        coarse = object.__new__(Profiles)
        coarse.strips = self.strips[:, :rows].reshape(self.strips.shape[0], -1, factor).sum(axis=2)
        coarse.centres, coarse.inked, coarse.row_step = self.centres / factor, self.inked, self.row_step * factor
        return coarse

    def sharpness(self, correction: float) -> float:
        """Sum of squared row-to-row changes of the profile after turning the page `correction`° CCW."""
        return float(self.sharpness_at(np.array([correction]))[0])

    def sharpness_at(self, corrections: np.ndarray) -> np.ndarray:
        """`sharpness` for many corrections at once (one gather per strip, not one per angle)."""
        strips, rows = self.strips.shape
        # a line that rises to the right (the page turned CCW, so it needs a clockwise correction c < 0)
        # sits higher in the strips to the right: reading strip x at row y − x·tan(c) puts it on row y
        # (`centres` are in rows, so the shifts are too)
        shifts = np.rint(np.outer(np.tan(np.radians(corrections)), self.centres)).astype(np.int64)  # (angles, strips)
        pad = int(np.abs(shifts).max()) if shifts.size else 0
        padded = np.zeros((strips, rows + 2 * pad), dtype=np.float32)
        padded[:, pad:pad + rows] = self.strips
        rows_out = np.arange(pad, pad + rows)[None, :]  # the page's own rows: what a shift pushes past them is margin
        total = np.zeros((len(corrections), rows), dtype=np.float32)
        for strip in range(strips):
            total += padded[strip][rows_out + shifts[:, strip:strip + 1]]
        return np.square(np.diff(total, axis=1), dtype=np.float64).sum(axis=1)


def _best_near(profiles: Profiles, centre: float, span: float, step: float) -> tuple[float, float]:
    angles = np.arange(centre - span, centre + span + step / 2, step)
    scores = profiles.sharpness_at(angles)
    best = int(np.argmax(scores))
    return float(angles[best]), float(scores[best])


def check_skew(image: Image.Image, estimate: float) -> SkewCheck:
    """The correction to apply, chosen among the engine's estimate, its opposite and the profile's best.

    Never worse than leaving the page alone: a candidate that does not sharpen the profile by
    MIN_GAIN gives 0.0.
    """
    profiles = Profiles(image)
    level = profiles.sharpness(0.0)
    if profiles.inked == 0 or level == 0:
        return SkewCheck(angle=0.0, gain=0.0, estimate_sharpness=1.0)
    coarse, _ = _best_near(profiles.coarser(4), 0.0, MAX_SKEW, 0.5)
    candidates = [coarse]
    if abs(estimate) <= MAX_SKEW:  # the engine's estimate and its opposite, unless the coarse search covers them
        candidates += [c for c in (estimate, -estimate) if abs(c - coarse) > 0.3]
    best, score = 0.0, level
    for candidate in candidates:
        angle, found = _best_near(profiles, candidate, 0.3, 0.05)
        angle, found = _best_near(profiles, angle, 0.04, 0.02)
        if found > score:
            best, score = angle, found
    gain = score / level - 1
    estimate_sharpness = profiles.sharpness(estimate) / level
    if abs(best) < MIN_ANGLE or gain < MIN_GAIN:
        return SkewCheck(angle=0.0, gain=round(gain, 4), estimate_sharpness=round(estimate_sharpness, 4))
    return SkewCheck(angle=round(best, 2), gain=round(gain, 4), estimate_sharpness=round(estimate_sharpness, 4))
