"""Tesseract, kept alive: one recognition API (Spanish + English) and one orientation API per process,
plus, once a page in another language has been read, one API for that language first (`in_language`).

Loading the models takes a fraction of a second and some memory, so each worker process opens
them once (`get_engine()`) and reuses them for every page, instead of spawning `tesseract` per page.
An engine is not thread-safe; a process uses one at a time.
"""

from __future__ import annotations

import logging
import os
import re
import statistics
import struct
import tempfile
from dataclasses import dataclass, field
from math import degrees
from pathlib import Path

import numpy as np
from PIL import Image
from tesserocr import OEM, PSM, PT, RIL, PyTessBaseAPI, WritingDirection, iterate_level

from common.text import strip_accents
from veterinaria.app.documents.read.languages import language_detector
from veterinaria.app.documents.read.line_reader import CHECK_BELOW, QUOTES, Line
from veterinaria.app.documents.read.spelling import Speller, cache_path

log = logging.getLogger(__name__)

LANGUAGES = "spa+eng"
#: the language whose spelling wins: Spanish words keep their accents (see `_restore_letters`)
PRIMARY = "spa"
DEBIAN_TESSDATA = "/usr/share/tesseract-ocr/5/tessdata"
#: Tesseract's model of every letter of the Latin script (Debian's tesseract-ocr-script-latn): it
#: reads the names Spanish and English have no letters for ("Łukasiewicz", "Dvořák", "Öztürk").
#: Only its recogniser is used (`names_model`): its word list of every Latin-script language is
#: 88.8 of its 89.4 MB, and Tesseract holds the whole file in memory (250 MB a process).
LATIN = "Latin"
#: A .traineddata file's components (Tesseract's tessdatamanager.h): their count, and the one left out
TESSDATA_ENTRIES = 24
TESSDATA_LSTM_WORD_LIST = 19
#: The letters Spanish and English write; any other letter in a name is what LATIN is asked for.
OUR_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzáéíóúüñ")
#: A name is read again in LATIN when Tesseract is less sure of it than this (0–100; clean Spanish
#: words read 96–97, the foreign names of tests/veterinaria 78–93), and LATIN's reading is taken
#: only when it is at least this sure (on the names of tests/veterinaria its right readings scored
#: 63–92, its wrong ones 33–38; "Mirosław", right at 35, stays "Mirostaw").
FOREIGN_NAME_BELOW = 95
FOREIGN_NAME_SURE = 60
#: … or, when the word is in our word lists (a name in the news: "Kovacevic"), less sure than this
KNOWN_NAME_BELOW = 85
#: OSD works on blobs, not on fine detail: larger pages are halved first (3× faster, same answer).
OSD_MAX_SIDE = 2600
THRESHOLDING = {"otsu": "0", "sauvola": "2"}  # Tesseract's thresholding_method
#: A word read with less confidence than this, left of its block's margin by more than STRAY_OUTSIDE
#: line heights, is a picture's speck (`_stray_words`); margins are taken from blocks of
#: at least MIN_MARGIN_LINES lines.
STRAY_BELOW_CONFIDENCE = 80
STRAY_OUTSIDE = 0.3
MIN_MARGIN_LINES = 3
#: A block none of whose words is read with this much confidence is texture, not text: a wooden
#: table under a receipt, a shadow's grain, a barcode ("> aii o ii ee", "NO-TMONMN-OO"). On the real
#: pages of bench/ocr_real.py such blocks' best word scored 0–58; every block of real text had one
#: word of 62 or more. (One level up, page_ocr.TEXTURE_BELOW drops a whole region of a page of
#: columns read with next to no confidence.)
TEXTURE_BELOW_CONFIDENCE = 60
#: A quote mark at the start or end of a word with less ink than this share of its line's height
#: squared is a speck of dust or grain, not a mark. On the halftone page of bench/ocr_real.py a
#: speck of 3 pixels before "house" was read "'house"; its apostrophes there have 52–58 pixels and
#: its periods 29–36, on lines 30 pixels high (the bound: 18).
SPECK_INK = 0.02
#: A period and a comma told apart by their ink (`_mark_shape`): a comma's ends at least COMMA_TAIL of
#: its line's height below the baseline; a period's ends above that and is at most PERIOD_SHAPE
#: times as tall as wide. A mark is no taller or wider than MARK_SIZE of its line.
COMMA_TAIL = 0.08
PERIOD_SHAPE = 1.75
MARK_SIZE = 0.4
#: "©" followed by a period is a "C" with a stain in its bowl ("A. ©. Rees", "by ©. E. De Long"):
#: the sign is never followed by a period.
_COPYRIGHT_FOR_C = re.compile("©(?=\\.)")
_Word = tuple[str, float, tuple[int, int, int, int]]  # as read, confidence (0–100), box
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


def names_model(tessdata: Path) -> Path | None:
    """The folder holding LATIN's recogniser without its word list, made from `tessdata`'s on first
    need (0.1 s) into the cache; None without Debian's tesseract-ocr-script-latn."""
    source = tessdata / f"{LATIN}.traineddata"
    if not source.is_file():
        return None
    stat = source.stat()
    found = cache_path(f"tessdata-names-{stat.st_size}-{stat.st_mtime_ns}")
    if (found / source.name).is_file():
        return found
    data = source.read_bytes()
    if struct.unpack_from("<i", data)[0] != TESSDATA_ENTRIES:
        log.warning("%s is not a Tesseract 4+ model; foreign names stay as read", source)
        return None
    found.mkdir(parents=True, exist_ok=True)
    offsets = struct.unpack_from(f"<{TESSDATA_ENTRIES}q", data, 4)
    starts = sorted({offset for offset in offsets if offset >= 0} | {len(data)})
    kept = [b"" if offset < 0 or index == TESSDATA_LSTM_WORD_LIST else data[offset:starts[starts.index(offset) + 1]]
            for index, offset in enumerate(offsets)]
    header_size = 4 + 8 * TESSDATA_ENTRIES
    new_offsets, at = [], header_size
    for part in kept:
        new_offsets.append(at if part else -1)
        at += len(part)
    with tempfile.NamedTemporaryFile(dir=found, suffix=".traineddata", delete=False) as out:
        out.write(struct.pack(f"<i{TESSDATA_ENTRIES}q", TESSDATA_ENTRIES, *new_offsets) + b"".join(kept))
    os.chmod(out.name, 0o644)
    os.replace(out.name, found / source.name)  # whole or not at all: two processes may make it at once
    return found


def _require(tessdata: Path, languages: str) -> None:
    missing = [lang for lang in languages.split("+") if not (tessdata / f"{lang}.traineddata").is_file()]
    if missing:
        raise RuntimeError(f"Tesseract language data missing in {tessdata}: {', '.join(missing)}")


@dataclass(frozen=True)
class PageLayout:
    skew: float  # degrees to turn the page counter-clockwise to level its text lines
    vertical: bool  # lines run top to bottom: for Latin script, a page lying on its side
    lines: tuple[tuple[int, int], ...] = ()  # (width, height) in pixels of each text line found


@dataclass(frozen=True)
class Block:
    box: tuple[int, int, int, int]  # left, top, right, bottom
    text: str


@dataclass(frozen=True)
class Reading:
    """One recognition of a page: its text, Tesseract's confidence, and what it is made of."""

    text: str
    confidence: float  # 0–1, mean word confidence weighted by characters
    blocks: tuple[Block, ...] = ()  # text blocks in Tesseract's order; `text` is their concatenation
    words: tuple[tuple[int, int, int, int], ...] = ()  # boxes of the words read with some confidence
    unsure: tuple[Line, ...] = ()  # lines read with less than line_reader.CHECK_BELOW, for a second reading


@dataclass
class _MarkedWord:
    """A word as `OcrEngine._marks` walks it: its symbols as read and as kept."""

    block: tuple
    text: str
    read: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    starts_line: bool = False


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

    def __init__(self, *, tessdata: str | os.PathLike | None = None, languages: str = LANGUAGES,
                 orientation: OrientationDetector | None = None) -> None:
        folder = find_tessdata(tessdata)
        _require(folder, languages)
        self._api = PyTessBaseAPI(path=str(folder), lang=languages, psm=PSM.AUTO, oem=OEM.LSTM_ONLY)
        self._api.SetVariable("debug_file", os.devnull)  # "Detected N diacritics" etc. are not log lines
        self._owns_osd = orientation is None
        self._osd = orientation or OrientationDetector(folder)
        self._folder = folder
        self._primary: PyTessBaseAPI | None = None  # Spanish alone, one line at a time: opened on first need
        self._latin: PyTessBaseAPI | None = None  # every Latin letter, one name at a time: opened on first need
        self._no_latin = False  # set when Latin's model could not be had: names stay as read
        self._speller = Speller(tuple(languages.split("+")))  # its word lists load here, not on the first page
        language_detector()  # so do the models that tell a page's language (languages.py)
        self._current: tuple[Image.Image, str] | None = None
        self._other: OcrEngine | None = None  # the last engine `in_language` opened

    def in_language(self, language: str) -> OcrEngine | None:
        """An engine that reads `language` (a Tesseract code, "fra") first, then this engine's
        languages; None when Tesseract has no data for it here.

        It shares this engine's orientation detector and word lists, and is kept until another
        language is asked for: the pages of one foreign document follow one another, and a worker
        holds at most one such engine (about 30 MB) beside its own.
        """
        languages = f"{language}+{self._api.GetInitLanguagesAsString()}"
        if self._other is not None and self._other._api.GetInitLanguagesAsString() == languages:
            return self._other
        if not (self._folder / f"{language}.traineddata").is_file():
            return None
        if self._other is not None:
            self._other.close()
        self._other = OcrEngine(tessdata=self._folder, languages=languages, orientation=self._osd)
        return self._other

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
        angles, vertical, lines = [], 0, []
        while layout is not None:
            if layout.BlockType() in _TEXT_BLOCKS:
                if layout.IsAtBeginningOf(RIL.BLOCK):
                    _, direction, _, angle = layout.Orientation()
                    angles.append(angle)
                    vertical += direction == WritingDirection.TOP_TO_BOTTOM
                box = layout.BoundingBox(RIL.TEXTLINE)
                if box:
                    lines.append((box[2] - box[0], box[3] - box[1]))
            if not layout.Next(RIL.TEXTLINE):
                break
        if not angles:
            return PageLayout(skew=0.0, vertical=False)
        return PageLayout(skew=degrees(statistics.median(angles)), vertical=vertical > len(angles) / 2,
                          lines=tuple(lines))

    def recognize(self, image: Image.Image, dpi: int | None = None, *, thresholding: str = "otsu",
                  sparse: bool = False) -> Reading:
        """The page's text, its confidence (0–1, mean over characters) and its blocks and word boxes.

        `thresholding`: "otsu" (Tesseract's default, one threshold for the page) or "sauvola" (a
        local threshold: ~25 % slower, but reads speckled or unevenly lit scans that Otsu loses).
        `sparse`: find as much text as possible in no particular order (forms, labels, a few words).
        """
        if sparse:
            self._current = None
            self._api.SetPageSegMode(PSM.SPARSE_TEXT)
        try:
            self._load(image, dpi, thresholding)
            blocks, pieces, stray = self._blocks()
            text = "".join(pieces)
            if text.strip() and self._api.GetInitLanguagesAsString().startswith(f"{PRIMARY}+"):
                text = self._restore_letters(text, image, dpi, thresholding, stray)  # keeps every word's length
            cursor, restored = 0, []
            for block, piece in zip(blocks, pieces, strict=True):
                # misread non-words put back (spelling.py): after the accents, which need the lengths as read
                restored.append(Block(box=block.box, text=self._speller.respell(text[cursor:cursor + len(piece)])))
                cursor += len(piece)
            if restored:
                text = "".join(block.text for block in restored)
            weight = total = 0.0
            boxes = []
            for word in iterate_level(self._api.GetIterator(), RIL.WORD):
                read, conf, box = _text_at(word, RIL.WORD), word.Confidence(RIL.WORD), word.BoundingBox(RIL.WORD)
                if box in stray:
                    continue  # not text: it neither lowers the confidence nor counts as read
                weight, total = weight + len(read), total + len(read) * conf
                if box and conf >= 40 and any(char.isalnum() for char in read):
                    boxes.append(box)
            confidence = total / weight / 100 if weight and text.strip() else 0.0
            unsure = self._unsure_lines(image) if text.strip() else ()
        finally:
            self._current = None
            self._api.Clear()
            if sparse:
                self._api.SetPageSegMode(PSM.AUTO)
        return Reading(text=text, confidence=max(0.0, min(1.0, confidence)), blocks=tuple(restored),
                       words=tuple(boxes), unsure=unsure)

    def respell(self, text: str) -> str:
        """`text` with its misread words put back in this engine's languages (spelling.py)."""
        return self._speller.respell(text)

    def _unsure_lines(self, image: Image.Image) -> tuple[Line, ...]:
        """The text lines read with less confidence than CHECK_BELOW, as read, with their boxes in `image`."""
        found = []
        for line in iterate_level(self._api.GetIterator(), RIL.TEXTLINE):
            confidence, box = line.Confidence(RIL.TEXTLINE), line.BoundingBox(RIL.TEXTLINE)
            if confidence >= CHECK_BELOW or not box:
                continue
            read = _text_at(line, RIL.TEXTLINE).strip()
            if read:
                found.append(Line(text=read, confidence=confidence, box=box, image=image))
        return tuple(found)

    def _blocks(self) -> tuple[list[Block], list[str], set[tuple[int, int, int, int]]]:
        """Recognise the page; its text blocks with their text, in Tesseract's order, and the boxes
        of the words dropped as a picture's specks (`_stray_words`) or as texture (`_texture_blocks`)."""
        self._api.Recognize()
        by_block = self._words_by_block()
        cleaned, stray = _stray_words(by_block)
        texture = _texture_blocks(by_block)
        stray |= {word[2] for block in texture for words in by_block[block] for word in words}
        marks = self._marks()
        blocks, pieces = [], []
        for block in iterate_level(self._api.GetIterator(), RIL.BLOCK):
            piece = _text_at(block, RIL.BLOCK)
            box = block.BoundingBox(RIL.BLOCK)
            if not piece.strip() or not box or box in texture:
                continue
            piece = _replace_in_order(_replace_in_order(piece, cleaned.get(box, ())), marks.get(box, ()))
            piece = _COPYRIGHT_FOR_C.sub("C", piece)
            if not piece.strip():
                continue
            blocks.append(Block(box=box, text=piece))
            pieces.append(piece if not pieces else "\n" + piece)
        return blocks, pieces, stray

    def _marks(self) -> dict[tuple, list[tuple[str, str]]]:
        """Words with a mark at their edge misread, as their ink shows (`_mark_shape`): a speck read as
        a quote mark is dropped (SPECK_INK); a comma that ends a paragraph but has a period's shape
        is a period; a period before a word in lower case on the same line, with a comma's shape, is
        a comma ("sigh. as" on a faded page; an abbreviation's period, "trad. par", is round).
        Per block box, in reading order, each such word as read and as kept."""
        words: list[_MarkedWord] = []
        periods: dict[int, tuple] = {}  # word index → its final period's box, baseline and row height
        image: list[tuple[Image.Image, float]] = []  # Tesseract's thresholded page, fetched on first need

        def page() -> tuple[Image.Image, float]:
            if not image:
                image.append((self._api.GetThresholdedImage(), self._api.GetThresholdedImageScaleFactor() or 1.0))
            return image[0]

        for symbol in iterate_level(self._api.GetIterator(), RIL.SYMBOL):
            first = symbol.IsAtBeginningOf(RIL.WORD)
            if first or not words:
                words.append(_MarkedWord(symbol.BoundingBox(RIL.BLOCK), _text_at(symbol, RIL.WORD),
                                         starts_line=symbol.IsAtBeginningOf(RIL.TEXTLINE)))
            word, read, kept = words[-1].text, words[-1].read, words[-1].kept
            mark = _text_at(symbol, RIL.SYMBOL)
            last = symbol.IsAtFinalElement(RIL.WORD, RIL.SYMBOL)
            read.append(mark)
            kept.append(mark)
            if not (first or last) or len(word) <= len(mark) or mark not in QUOTES | {",", "."}:
                continue
            box, row = symbol.BoundingBox(RIL.SYMBOL), symbol.RowAttributes()
            if not box or not row:
                continue
            if mark in QUOTES:
                thresholded, scale = page()
                if thresholded is None:
                    continue
                crop = thresholded.crop(tuple(round(side * scale) for side in box)).convert("L")
                if crop.histogram()[0] < SPECK_INK * (row["row_height"] * scale) ** 2:
                    kept[-1] = ""
            elif mark == "," and last and symbol.IsAtFinalElement(RIL.PARA, RIL.SYMBOL):
                if _mark_shape(*page(), box, symbol.Baseline(RIL.TEXTLINE), row["row_height"]) == ".":
                    kept[-1] = "."
            elif mark == "." and last and not symbol.IsAtFinalElement(RIL.TEXTLINE, RIL.SYMBOL):
                periods[len(words) - 1] = (box, symbol.Baseline(RIL.TEXTLINE), row["row_height"])
        for index, (box, baseline, row_height) in periods.items():
            after = words[index + 1] if index + 1 < len(words) else None
            if after is not None and not after.starts_line and after.text[:1].islower() \
                    and _mark_shape(*page(), box, baseline, row_height) == ",":
                words[index].kept[-1] = ","
        found: dict[tuple, list[tuple[str, str]]] = {}
        for word in words:
            kept = "".join(word.kept)
            if "".join(word.read) == word.text and kept != word.text:
                found.setdefault(word.block, []).append((word.text, kept))
        return found

    def _words_by_block(self) -> dict[tuple, list[list[_Word]]]:
        """The page's words (text, confidence, box) line by line, per block box: one walk for both cleaning rules."""
        lines: list[tuple[tuple, list[_Word]]] = []
        for word in iterate_level(self._api.GetIterator(), RIL.WORD):
            box = word.BoundingBox(RIL.WORD)
            if not box:
                continue
            if word.IsAtBeginningOf(RIL.TEXTLINE) or not lines:
                lines.append((word.BoundingBox(RIL.BLOCK), []))
            lines[-1][1].append((_text_at(word, RIL.WORD), word.Confidence(RIL.WORD), box))
        by_block: dict[tuple, list[list[_Word]]] = {}
        for block, words in lines:
            by_block.setdefault(block, []).append(words)
        return by_block

    def _restore_letters(self, text: str, image: Image.Image, dpi: int | None, thresholding: str,
                         stray: set[tuple[int, int, int, int]]) -> str:
        """Give back the accents that the English model took from Spanish words.

        With "spa+eng" Tesseract tries the language it used last first and keeps its reading when
        it is plausible: after one English word (a unit like "x10^3/uL") the following Spanish
        words are often read by the English model, which has no "á" or "ñ" ("Ibáñez" → "Ibanez").
        Each word read in English that could carry an accent is read again, alone, in Spanish alone
        (a line cost four times as much, and most of its words needed nothing); a word whose Spanish
        reading has the same letters in the same case but for accents takes the Spanish spelling
        (the case must match too: read out of its line, "so" came back "SO").

        Only an engine that reads Spanish first does this: on a page read in French first
        (`in_language`), a word the French model read is French ("apotres" would come back "apótres").

        The same walk gives back the letters neither language has to the names that need them: a
        word that may be such a name (`_could_be_foreign_name`) is read again, alone, by the LATIN
        model, and takes its reading when that only puts such letters where ours has others
        (`_foreign_letters_only`): an owner "Łukasiewicz" was read "tukasiewicz", a referring
        "Dr. Dvořák" "Dvofak".
        """
        spelled_as: list[tuple[str, str]] = []  # every word (as read, as Spanish spells it), in reading order
        line = None
        for word in iterate_level(self._api.GetIterator(), RIL.WORD):
            if word.IsAtBeginningOf(RIL.TEXTLINE) or line is None:
                line = word.BoundingBox(RIL.TEXTLINE)
            read, box = word.GetUTF8Text(RIL.WORD) or "", word.BoundingBox(RIL.WORD)
            if box in stray:
                continue  # not in the text any more: looking for it would land on a later word
            spelled = read
            # the word's width but its line's height: an accent above a capital may lie outside
            # the box of a word read without it
            crop = (box[0], line[1], box[2], line[3]) if line and box else None
            if crop and self._could_be_foreign_name(word, read) and (latin := self._latin_api()) is not None:
                in_latin, sure = self._read_crop(latin, image, crop, dpi, thresholding)
                if sure >= FOREIGN_NAME_SURE and _foreign_letters_only(read, in_latin.strip()):
                    spelled = in_latin.strip()
            if spelled == read and crop and word.WordRecognitionLanguage() != PRIMARY and _could_be_accented(read):
                spelled = self._read_crop(self._spanish_api(), image, crop, dpi, thresholding)[0].strip()
                if strip_accents(spelled) != read or not spanish_accents(spelled):
                    spelled = read
            spelled_as.append((read, spelled))
        cursor, pieces = 0, []
        for read, spelled in spelled_as:  # walk the text word by word, so each fix lands on its own word
            found = text.find(read, cursor) if read else -1
            if found < 0:
                continue
            pieces += [text[cursor:found], spelled]
            cursor = found + len(read)
        return "".join(pieces) + text[cursor:]

    def _spanish_api(self) -> PyTessBaseAPI:
        """The Spanish-only API, opened on first need."""
        if self._primary is None:
            self._primary = _line_api(self._folder, PRIMARY)
        return self._primary

    def _latin_api(self) -> PyTessBaseAPI | None:
        """The LATIN recogniser's API (`names_model`), opened on first need; None without its data."""
        if self._latin is None and not self._no_latin:
            try:
                folder = names_model(self._folder)
            except OSError as error:  # no cache folder to write it in
                log.warning("Latin recogniser unavailable, foreign names stay as read: %s", error)
                folder = None
            self._no_latin = folder is None
            if folder is not None:
                self._latin = _line_api(folder, LATIN)
        return self._latin

    def _could_be_foreign_name(self, word, read: str) -> bool:
        """Whether the word may be a name with letters Spanish and English lack, read without them:
        a word of letters that Tesseract did not find in its dictionary, read with less than
        FOREIGN_NAME_BELOW (KNOWN_NAME_BELOW if it is in our word lists)."""
        letters = read.strip(_PUNCTUATION)
        # one character may be anything but a digit or a unit's slash ("g/dL"): the "@" of
        # "@hlenschlager" is an "Ø"
        others = sum(not char.isalpha() for char in letters)
        if (len(letters) - others < 3 or others > 1 or any(char.isdigit() or char == "/" for char in letters)
                or word.WordIsFromDictionary()):
            return False
        # a word of our word lists, read as surely as a name is, is that word ("Hemograma", 90–94);
        # "Kovacevic" is a word there too, but was read at 78
        below = KNOWN_NAME_BELOW if self._speller.knows(letters) else FOREIGN_NAME_BELOW
        return word.Confidence(RIL.WORD) < below

    @staticmethod
    def _read_crop(api: PyTessBaseAPI, image: Image.Image, box: tuple[int, int, int, int], dpi: int | None,
                   thresholding: str, pad: int = 4) -> tuple[str, int]:
        """The text in `box` (padded) as `api` reads it, and how sure it is (0–100).

        Only the crop is handed over, as raw bytes: setting the whole page for a few words cost
        more than reading them.
        """
        left, top, right, bottom = box
        crop = image.crop((max(0, left - pad), max(0, top - pad), min(image.width, right + pad),
                           min(image.height, bottom + pad)))
        if crop.mode != "L":
            crop = crop.convert("L")
        pixels = crop.tobytes()  # Tesseract reads this buffer without copying it: it must outlive the reading
        api.SetVariable("thresholding_method", THRESHOLDING[thresholding])
        api.SetImageBytes(pixels, crop.width, crop.height, 1, crop.width)
        if dpi:
            api.SetSourceResolution(dpi)
        try:
            return api.GetUTF8Text(), api.MeanTextConf()
        finally:
            api.Clear()

    def orientation(self, image: Image.Image) -> int:
        """Degrees (0/90/180/270, counter-clockwise) that make the page upright; 0 when unsure."""
        found = self._osd.detect(image)
        if found is None or found.confidence < self.min_orientation_confidence:
            return 0
        return found.degrees

    def close(self) -> None:
        self._api.End()
        if self._owns_osd:
            self._osd.close()
        for api in (self._primary, self._latin):
            if api is not None:
                api.End()
        if self._other is not None:
            self._other.close()


def _texture_blocks(by_block: dict[tuple, list[list[_Word]]]) -> set[tuple]:
    """The boxes of the blocks read as texture, not text: no word with a letter or digit reaches
    TEXTURE_BELOW_CONFIDENCE (rules and dashes, "——", "=", are read with confidence but say nothing)."""
    return {block for block, lines in by_block.items()
            if all(confidence < TEXTURE_BELOW_CONFIDENCE or not any(char.isalnum() for char in read)
                   for words in lines for read, confidence, _ in words)}


def _stray_words(by_block: dict[tuple, list[list[_Word]]]) -> tuple[dict[tuple, list[tuple[str, str]]], set[tuple]]:
    """Words that a picture beside a column put at the start of its lines.

    An engraving next to the text is read as letters ("da |", "I y » :") glued to the lines
    beside it. They lie left of where the block's lines begin, and are read with little
    confidence; real text there (a list's numbers, a drop capital) is read with confidence and
    stays. (Not on the right: lines of ragged text end anywhere.)
    Returns, per block box, each such line's text as read and as kept, and the dropped words' boxes.
    """
    cleaned: dict[tuple, list[tuple[str, str]]] = {}
    stray: set[tuple[int, int, int, int]] = set()
    for block, block_lines in by_block.items():
        sure = [[w for w in words if w[1] >= STRAY_BELOW_CONFIDENCE] for words in block_lines]
        sure = [words for words in sure if words]
        if len(sure) < MIN_MARGIN_LINES:
            continue
        height = statistics.median(w[2][3] - w[2][1] for words in sure for w in words)
        left = statistics.median(words[0][2][0] for words in sure) - STRAY_OUTSIDE * height
        for words in block_lines:
            first = 0
            while first < len(words) and words[first][2][2] < left and words[first][1] < STRAY_BELOW_CONFIDENCE:
                first += 1
            if first == 0:
                continue
            stray.update(w[2] for w in words[:first])
            read = " ".join(w[0] for w in words)
            cleaned.setdefault(block, []).append((read, " ".join(w[0] for w in words[first:])))
    return cleaned, stray


def _mark_shape(page: Image.Image | None, scale: float, box: tuple[int, int, int, int], baseline,
                row_height: float) -> str | None:
    """"." or "," as the ink of the mark Tesseract found at `box` shows it, or None when it does not tell.

    The mark is the rightmost ink at its box, with paper on its left (Tesseract's symbol boxes
    often take in part of the letter before it, or are cut short). On bench/ocr_real.py's 1871
    report, its commas are 1.9–2.6 times as tall as wide and their tails end 3–12 px below the
    baseline on lines of 35–47 px; its periods are 1.0–1.6 times as tall as wide and end within
    1 px of it (DejaVu Serif's comma, 1.4 times as tall as wide, goes 0.11 of the line below). Ink
    that is not a mark's size tells nothing (ink joined to the letter before runs to the region's
    left edge, MARK_SIZE of the line before the box, so it is never one); nor does a mark that is
    tall and thin but not below the baseline.
    """
    if page is None or not baseline:
        return None
    (x1, y1), (x2, y2) = baseline
    height = row_height * scale
    centre = (box[0] + box[2]) / 2
    base = (y1 + (y2 - y1) * (centre - x1) / max(1, x2 - x1)) * scale
    top = round(base - MARK_SIZE * height)
    region = page.crop((round(box[0] * scale - MARK_SIZE * height), top, round(box[2] * scale) + 1,
                        round(base + MARK_SIZE * height)))
    ink = np.asarray(region.convert("L")) < 128
    columns = np.flatnonzero(ink.any(axis=0))
    if not columns.size:
        return None
    right = left = columns[-1]
    while left > 0 and ink[:, left - 1].any():
        left -= 1
    rows = np.flatnonzero(ink[:, left:right + 1].any(axis=1))
    wide, tall = right - left + 1, rows[-1] - rows[0] + 1
    if max(wide, tall) > MARK_SIZE * height:
        return None
    if top + rows[-1] - base >= COMMA_TAIL * height:
        return ","
    return "." if tall <= PERIOD_SHAPE * wide else None


def _replace_in_order(piece: str, replacements) -> str:
    """`piece` with each (as read, as kept) pair replaced in turn, each after the one before."""
    cursor = 0
    for read, kept in replacements:
        found = piece.find(read, cursor)
        if found >= 0:
            piece = piece[:found] + kept + piece[found + len(read):]
            cursor = found + len(kept)
    return piece


def _text_at(iterator, level) -> str:
    """The text at the iterator's element; tesserocr raises instead of returning "" for an empty one."""
    try:
        return iterator.GetUTF8Text(level) or ""
    except RuntimeError:
        return ""


def _line_api(folder: Path, language: str) -> PyTessBaseAPI:
    api = PyTessBaseAPI(path=str(folder), lang=language, psm=PSM.SINGLE_LINE, oem=OEM.LSTM_ONLY)
    api.SetVariable("debug_file", os.devnull)
    return api


def _foreign_letters_only(read: str, in_latin: str) -> bool:
    """Whether `in_latin` is `read` with letters Spanish and English lack where `read` has other
    characters ("tukasiewicz" → "Łukasiewicz", "Dvofak" → "Dvořák", "Mladi¿" → "Mladič"), and
    maybe a Spanish accent changed on the way ("Oztúrk" → "Öztürk"); nothing else differs."""
    if len(in_latin) != len(read) or in_latin == read:
        return False
    foreign = False
    for ours, theirs in zip(read, in_latin, strict=True):
        if theirs.isalpha() and theirs.lower() not in OUR_LETTERS:
            foreign = True
        elif ours != theirs and strip_accents(ours) != strip_accents(theirs):
            return False
    return foreign


#: what may stand before or after a word's letters
_PUNCTUATION = ".,:;()\"'¿?¡!«»“”"


def _could_be_accented(word: str) -> bool:
    """A word in letters with a vowel or an n: numbers and units ("4,1", "mg/dL") never gain an accent."""
    letters = word.strip(_PUNCTUATION)
    return letters.isalpha() and any(char in "aeiounAEIOUN" for char in letters)


_VOWEL_RUN = re.compile("[aeiouáéíóúü]+")
#: Words of one syllable Spanish writes with an accent, to tell them from their unaccented twins
#: (RAE's tilde diacrítica), and the old spellings of earlier papers ("fué", "dió"; before 1959).
ACCENTED_MONOSYLLABLES = frozenset(
    "tú él mí sí sé dé té más qué quién quiénes cuál cuáles cuán dó fué fuí dió vió ví ó á".split())


def spanish_accents(word: str) -> bool:
    """Whether the word's written accents can be Spanish, by the rules that need no dictionary.

    One acute accent at most; and one on the last syllable only when the word ends in a vowel, "n"
    or "s" ("corazón", "Tomás"; never "hospitál"), unless it breaks a diphthong ("maíz", "Raúl").
    A word of one syllable has one only if it is one of the few that Spanish accents to tell them
    apart ("más", "sí", "él"; ACCENTED_MONOSYLLABLES). On faint English text the Spanish model put
    accents where Spanish never would ("bandít"; "so" read "só" on a shadowed page).
    """
    letters = word.lower().strip(_PUNCTUATION)
    accented = [index for index, char in enumerate(letters) if char in "áéíóú"]
    if len(accented) != 1:
        return not accented
    index = accented[0]
    neighbours = letters[index - 1:index] + letters[index + 1:index + 2]
    if letters[index] in "íú" and any(char in "aeiouáéó" for char in neighbours):
        return True  # a hiatus: written whatever the word ends in
    runs = list(_VOWEL_RUN.finditer(letters))
    if len(runs) == 1:
        return letters in ACCENTED_MONOSYLLABLES
    on_last_syllable = index >= runs[-1].start()
    return not on_last_syllable or letters[-1] in "aeiouáéíóúns"


_engine: OcrEngine | None = None


def get_engine() -> OcrEngine:
    """This process's engine, opened on first use and kept for the life of the process."""
    global _engine
    if _engine is None:
        _engine = OcrEngine()
    return _engine
