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

import math
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
#: The profile is measured on a page narrowed to this width at most (its height kept): the strips'
#: sums need no more, and the measurement costs a few per cent of a recognition.
PROFILE_WIDTH = 900


@dataclass(frozen=True)
class SkewCheck:
    angle: float  # degrees to turn counter-clockwise (PIL's `rotate` argument); 0.0 = leave it
    gain: float  # how much sharper the profile is at `angle` than as it is (0.1 = 10 %)
    estimate_sharpness: float  # sharpness at the engine's estimate relative to as-is (1.0 = same)


class Profiles:
    """One page's per-strip row profiles of ink, ready to be scored at any tilt."""

    def __init__(self, image: Image.Image) -> None:
        # narrower only: the rows keep their full resolution, which is what resolves a tenth of a degree
        factor = max(1, -(-image.width // PROFILE_WIDTH))
        grey = image.reduce((factor, 1)) if factor > 1 else image
        ink = 255.0 - np.asarray(grey, dtype=np.float32)
        # paper is rarely white: count only what is clearly darker than the page's own background
        ink = np.clip(ink - float(np.median(ink[::4, ::4])) - 20, 0, None)
        height, width = ink.shape
        strip = max(1, width // STRIPS)
        used = strip * (width // strip)
        self.strips = ink[:, :used].reshape(height, used // strip, strip).sum(axis=2).T  # (strips, rows)
        self.centres = ((np.arange(self.strips.shape[0]) + 0.5) * strip - used / 2) * factor  # page pixels
        self.inked = float(ink.sum())

    def sharpness(self, correction: float) -> float:
        """Sum of squared row-to-row changes of the profile after turning the page `correction`° CCW."""
        rows = self.strips.shape[1]
        # a line that rises to the right (the page turned CCW, so it needs a clockwise correction c < 0)
        # sits higher in the strips to the right: shifting strip x by x·tan(c) puts it on one row
        shifts = np.rint(self.centres * math.tan(math.radians(correction))).astype(int)
        pad = int(np.abs(shifts).max()) if len(shifts) else 0
        total = np.zeros(rows + 2 * pad, dtype=np.float64)
        for profile, shift in zip(self.strips, shifts):
            start = pad - shift
            total[start:start + rows] += profile
        return float(np.square(np.diff(total)).sum())


def _best_near(profiles: Profiles, centre: float, span: float, step: float) -> tuple[float, float]:
    angles = np.arange(centre - span, centre + span + step / 2, step)
    scores = [profiles.sharpness(float(a)) for a in angles]
    best = int(np.argmax(scores))
    return float(angles[best]), scores[best]


def check_skew(image: Image.Image, estimate: float) -> SkewCheck:
    """The correction to apply, chosen among the engine's estimate, its opposite and the profile's best.

    Never worse than leaving the page alone: a candidate that does not sharpen the profile by
    MIN_GAIN gives 0.0.
    """
    profiles = Profiles(image)
    level = profiles.sharpness(0.0)
    if profiles.inked == 0 or level == 0:
        return SkewCheck(angle=0.0, gain=0.0, estimate_sharpness=1.0)
    coarse, _ = _best_near(profiles, 0.0, MAX_SKEW, 0.5)
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
