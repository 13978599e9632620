"""Tesseract, kept alive: one recognition API (Spanish + English) and one orientation API per process.

Loading the models takes a fraction of a second and some memory, so each worker process opens
them once (`get_engine()`) and reuses them for every page, instead of spawning `tesseract` per page.
An engine is not thread-safe; a process uses one at a time.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from math import degrees
from pathlib import Path

from PIL import Image
from tesserocr import OEM, PSM, PT, RIL, PyTessBaseAPI, WritingDirection

LANGUAGES = "spa+eng"
DEBIAN_TESSDATA = "/usr/share/tesseract-ocr/5/tessdata"
#: OSD works on blobs, not on fine detail: larger pages are halved first (3× faster, same answer).
OSD_MAX_SIDE = 2600
THRESHOLDING = {"otsu": "0", "sauvola": "2"}  # Tesseract's thresholding_method
_TEXT_BLOCKS = {PT.FLOWING_TEXT, PT.HEADING_TEXT, PT.PULLOUT_TEXT, PT.CAPTION_TEXT, PT.TABLE, PT.VERTICAL_TEXT}


def find_tessdata(explicit: str | os.PathLike | None = None) -> Path:
    """The folder with the .traineddata files: the argument, $TESSDATA_PREFIX, or Debian's."""
    for candidate in (explicit, os.environ.get("TESSDATA_PREFIX"), DEBIAN_TESSDATA):
        if not candidate:
            continue
        path = Path(candidate)
        for folder in (path, path / "tessdata"):  # Tesseract 4 pointed the variable at the parent
            if (folder / "eng.traineddata").is_file():
                return folder
    raise RuntimeError(
        "Tesseract language data not found: install Debian's tesseract-ocr-spa, tesseract-ocr-eng and "
        "tesseract-ocr-osd, or set TESSDATA_PREFIX to the folder holding spa/eng/osd.traineddata"
    )


def _require(tessdata: Path, languages: str) -> None:
    missing = [lang for lang in languages.split("+") if not (tessdata / f"{lang}.traineddata").is_file()]
    if missing:
        raise RuntimeError(f"Tesseract language data missing in {tessdata}: {', '.join(missing)}")


@dataclass(frozen=True)
class PageLayout:
    skew: float  # degrees to turn the page counter-clockwise to level its text lines
    vertical: bool  # lines run top to bottom: for Latin script, a page lying on its side


@dataclass(frozen=True)
class Orientation:
    degrees: int  # counter-clockwise turn that makes the page upright (PIL's `rotate` argument)
    confidence: float  # Tesseract's OSD margin: above ~2 is a clear answer


class OrientationDetector:
    """Tesseract's orientation and script detection (OSD) on an API opened for nothing else.

    `DetectOrientationScript()` on an API opened for recognition aborts the whole process (a C++
    std::out_of_range that Python cannot catch), so this class opens its own API in OSD mode,
    checks that mode before every call, and is the only place that calls it.
    """

    def __init__(self, tessdata: Path) -> None:
        _require(tessdata, "osd")
        self._api = PyTessBaseAPI(path=str(tessdata), lang="osd", oem=OEM.TESSERACT_ONLY, psm=PSM.OSD_ONLY)
        self._api.SetVariable("debug_file", os.devnull)
        ensure_osd_mode(self._api)

    def detect(self, image: Image.Image) -> Orientation | None:
        """The page's orientation, or None when there is too little text to tell."""
        ensure_osd_mode(self._api)
        if max(image.size) > OSD_MAX_SIDE:
            image = image.reduce(2)
        self._api.SetImage(image)
        result = self._api.DetectOrientationScript()
        self._api.Clear()
        if not result:
            return None
        return Orientation(degrees=int(result["orient_deg"]) % 360, confidence=float(result["orient_conf"]))

    def close(self) -> None:
        self._api.End()


def ensure_osd_mode(api) -> None:
    """Refuse (with an exception Python can handle) an API on which OSD would abort the process."""
    if api.GetPageSegMode() != PSM.OSD_ONLY or api.GetInitLanguagesAsString() != "osd":
        raise RuntimeError("orientation detection needs an API opened with lang='osd' and psm=PSM.OSD_ONLY")


class OcrEngine:
    """Text recognition for Spanish and English pages, plus orientation and skew estimates."""

    #: OSD margins below this are guesses. A wrong turn above it costs time, not text: read_page
    #: keeps the turned reading only if it is more confident than the upright one.
    min_orientation_confidence = 2.0

    def __init__(self, *, tessdata: str | os.PathLike | None = None, languages: str = LANGUAGES) -> None:
        folder = find_tessdata(tessdata)
        _require(folder, languages)
        self._api = PyTessBaseAPI(path=str(folder), lang=languages, psm=PSM.AUTO, oem=OEM.LSTM_ONLY)
        self._api.SetVariable("debug_file", os.devnull)  # "Detected N diacritics" etc. are not log lines
        self._osd = OrientationDetector(folder)
        self._current: tuple[Image.Image, str] | None = None

    def _load(self, image: Image.Image, dpi: int | None, thresholding: str) -> None:
        if self._current and self._current[0] is image and self._current[1] == thresholding:
            return  # layout already found for this very image: Recognize reuses it
        self._api.SetVariable("thresholding_method", THRESHOLDING[thresholding])
        self._api.SetImage(image)
        if dpi:
            self._api.SetSourceResolution(dpi)
        self._current = (image, thresholding)

    def analyse(self, image: Image.Image, dpi: int | None = None, *, thresholding: str = "otsu") -> PageLayout:
        """Tesseract's layout of the page: how skewed its text lines are and whether they run vertically.

        The layout is kept: a `recognize` of the same image right after reuses it.
        """
        self._load(image, dpi, thresholding)
        layout = self._api.AnalyseLayout()
        angles, vertical = [], 0
        while layout is not None:
            if layout.BlockType() in _TEXT_BLOCKS:
                _, direction, _, angle = layout.Orientation()
                angles.append(angle)
                vertical += direction == WritingDirection.TOP_TO_BOTTOM
            if not layout.Next(RIL.BLOCK):
                break
        if not angles:
            return PageLayout(skew=0.0, vertical=False)
        return PageLayout(skew=degrees(statistics.median(angles)), vertical=vertical > len(angles) / 2)

    def recognize(self, image: Image.Image, dpi: int | None = None, *, thresholding: str = "otsu") -> tuple[str, float]:
        """The page's text and its confidence (0–1, mean over characters).

        `thresholding`: "otsu" (Tesseract's default, one threshold for the page) or "sauvola" (a
        local threshold: ~25 % slower, but reads speckled or unevenly lit scans that Otsu loses).
        """
        self._load(image, dpi, thresholding)
        text = self._api.GetUTF8Text()
        if not text.strip():
            confidence = 0.0
        else:
            words = self._api.MapWordConfidences()
            weight = sum(len(word) for word, _ in words)
            confidence = sum(len(word) * conf for word, conf in words) / weight / 100 if weight else 0.0
        self._current = None
        self._api.Clear()
        return text, max(0.0, min(1.0, confidence))

    def orientation(self, image: Image.Image) -> int:
        """Degrees (0/90/180/270, counter-clockwise) that make the page upright; 0 when unsure."""
        found = self._osd.detect(image)
        if found is None or found.confidence < self.min_orientation_confidence:
            return 0
        return found.degrees

    def close(self) -> None:
        self._api.End()
        self._osd.close()


_engine: OcrEngine | None = None


def get_engine() -> OcrEngine:
    """This process's engine, opened on first use and kept for the life of the process."""
    global _engine
    if _engine is None:
        _engine = OcrEngine()
    return _engine
