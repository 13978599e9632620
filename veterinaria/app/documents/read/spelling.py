"""Words Tesseract misread into words no language has, put back when one common word is a glyph away.

On old print, a worn ribbon or a faint copy, Tesseract's LSTM confuses glyphs that look alike:
"c" and "e" ("Seeretary", "diagnóstieo"), "i" and "l" ("Biackface", "Leucocltos"), "y" and "v"
("Tuesdav"), "m" and "rn". Its own dictionary does not stop it. Such a word is put back when:

- the word as read is in no word list: not Spanish or English (wordfreq's large lists, which hold
  rare words, names and inflections too), nor a language a page may quote (a French title, a Dutch
  recipe: their word lists), nor the clinic's own vocabulary (vet_words.txt: "Rabisin",
  "Librela", "piometra") — a word that exists anywhere is left as read;
- one misreading away (a letter for its lookalike, LOOKALIKES, or one of the GLYPH_CONFUSIONS)
  lies a common Spanish or English word, at least MIN_CANDIDATE_ZIPF, and clearly more
  common (MARGIN_ZIPF) than any other word that close — two close candidates are left alone.

A lone "l" between words is the digit 1 it looks like, except after a number (the litre).

Left alone as well: words with digits (codes, units, values: "T2N1N4", "4,1"), abbreviations in
capitals (up to MAX_ABBREVIATION letters: "VCM", "ALT"), words of mixed case, and words next to
an apostrophe or a hyphen. A word broken at a line-end hyphen is looked at whole ("be-⏎haye" is
"behave") and stays broken where it was.

Names of medicines and pets need this care: Tesseract reads a correct brand name that no
dictionary has with the same confidence (91–93) as its misreadings of common words (48–92), so
its confidence cannot tell them apart. With any letter for any letter, 7 of 130 brands checked
became words ("Rabisin" → "Raisin", "Drontal" → "Frontal"); with lookalikes only, one
("Librela" → "Libreta"), and vet_words.txt lists them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import itertools
import logging
import os
import re
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

from common.config import get_settings
from veterinaria.app.documents.read.languages import OTHER_LANGUAGES

log = logging.getLogger(__name__)

#: Tesseract's language codes and wordfreq's: ours, and those a foreign page is read again in
#: (languages.py), whose engine puts back misread words of its own language too ("religicuses").
WORDFREQ_LANGUAGE = {"spa": "es", "eng": "en", **{code: language.iso_code_639_1.name.lower()
                                                 for language, code in OTHER_LANGUAGES.items()}}
#: Languages a Spanish or English page may quote: a word of theirs is not a misreading (the
#: languages a foreign page is read again in, languages.py; wordfreq's codes are ISO 639-1).
QUOTED_LANGUAGES = tuple(language.iso_code_639_1.name.lower() for language in OTHER_LANGUAGES)
#: Medicines, vaccines, foods and clinical terms that the word lists lack: real words too.
CLINIC_WORDS = Path(__file__).with_name("vet_words.txt")
_PROJECT_ROOT = Path(__file__).resolve().parents[4]
#: A candidate must be at least this common (Zipf scale: 3 is once per million words; "efficiency"
#: 4.4, "Blackface" 2.9, "bitstream" 1.9)...
MIN_CANDIDATE_ZIPF = 2.5
#: ...and this much more common than the next candidate (a factor of 10).
MARGIN_ZIPF = 1.0
MAX_ABBREVIATION = 5
#: Letters Tesseract reads one for another, in groups: within a group any letter may stand for any
#: other (as found on the real pages of bench/ocr_real.py: "Seeretary", "efliciency", "Biackface",
#: "Tuesdav", "incloded", "Cemsus", "consurption", "Percertage"; and a lost or added accent).
#: Only these substitutions, not any letter for any letter, and no letter added or dropped:
#: "Rabisin" is a vaccine, not a misread "raisin", and "Simparica" not "simpática".
LOOKALIKES = ("ceo", "ao", "ae", "au", "ou", "nu", "nr", "mn", "mr", "ilt", "ij", "lf", "ft", "hb", "hn", "vy",
              "gq", "sa", "aá", "eé", "ií", "oó", "uúü", "nñ")
#: Glyph confusions of more than one letter: (as misread, as printed).
GLYPH_CONFUSIONS = (("rn", "m"), ("m", "rn"), ("cl", "d"), ("li", "h"), ("vv", "w"), ("ri", "n"), ("ii", "ll"))
_STANDS_FOR = {letter: "".join(sorted({other for group in LOOKALIKES if letter in group for other in group} - {letter}))
               for letter in set("".join(LOOKALIKES))}
#: A word of letters only, not joined to another by an apostrophe or a hyphen — or broken at a
#: line-end hyphen, its two halves ("be-⏎haye"), which are put back as one word and broken again.
_WORD = re.compile(r"(?<![\w'’-])([^\W\d_]+)(?:(-[ \t]*\n[ \t]*)([^\W\d_]+))?(?![\w'’-])")
_MIN_LETTERS = 3
#: A lone "l" between words is a misread "1" ("en l liter", "tomar l comprimido"): no language we
#: read has it as a word. After a number it is the litre ("2 l", "1,5 l") and stays.
_LONE_L = re.compile(r"(?<![\w'’.,-])(?<!\d )l(?= [^\W\d_])")
_BROKEN_BEFORE = re.compile(r"-[ \t]*\n[ \t]*\Z")  # the second half of a word whose first half was not a word


class WordLists:
    """Every word of the lists, and how common the common ones are, as sorted 64-bit hashes.

    wordfreq's dictionaries of Spanish and English alone hold 650,000 Python strings: 80 MB in every
    OCR process, and reading them leaves about 65 MB behind once freed. So the lists are read once,
    in a process of their own (`word_lists`), into sorted arrays of hashes (15 MB with the quoted
    languages) cached in the user's cache folder; each process loads the arrays. Two words sharing
    a hash (about one chance in 10^13 a lookup) can only make a non-word pass for a word: left as read.
    """

    def __init__(self, path: Path) -> None:
        with np.load(path) as arrays:
            self._known, self._common, self._zipf = arrays["known"], arrays["common"], arrays["zipf"]

    @classmethod
    def build(cls, path: Path, languages: tuple[str, ...]) -> None:
        from wordfreq import get_frequency_list  # here only: its import (0.1 s) is for the build

        common: dict[int, float] = {}
        for language in languages:
            # wordfreq's buckets: bucket i holds the words of frequency 10^(-i/100), Zipf 9 - i/100,
            # most common first; a word common in both languages keeps its higher Zipf
            for index, bucket in enumerate(get_frequency_list(WORDFREQ_LANGUAGE[language], "large")):
                zipf = 9 - index / 100
                if zipf < MIN_CANDIDATE_ZIPF:
                    break
                for key in map(_hash, bucket):
                    common[key] = max(zipf, common.get(key, 0.0))
        every = [*(WORDFREQ_LANGUAGE[language] for language in languages), *QUOTED_LANGUAGES]
        words = itertools.chain(*(itertools.chain.from_iterable(get_frequency_list(language, "large"))
                                  for language in every), _clinic_words())
        known = np.unique(np.fromiter(map(_hash, words), dtype=np.int64))
        keys = np.array(sorted(common), dtype=np.int64)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as out:
            try:
                np.savez(out, known=known, common=keys, zipf=np.array([common[key] for key in keys.tolist()],
                                                                         dtype=np.float32))
            except BaseException:
                os.unlink(out.name)
                raise
        os.chmod(out.name, 0o644)  # words, not secrets: readable by the service user of an image built as root
        os.replace(out.name, path)  # whole or not at all: two processes may build it at once

    def exists(self, word: str) -> bool:
        return _find(self._known, _hash(word)) is not None

    def zipf(self, word: str) -> float:
        """How common the word is (Zipf scale), if at least MIN_CANDIDATE_ZIPF; else 0."""
        at = _find(self._common, _hash(word))
        return 0.0 if at is None else float(self._zipf[at])


@cache
def word_lists(languages: tuple[str, ...]) -> WordLists:
    """This process's lists for the languages, built into the cache on first need (a few seconds)."""
    version = hashlib.sha256(
        f"{'+'.join(languages)} large {importlib.metadata.version('wordfreq')} {QUOTED_LANGUAGES} {MIN_CANDIDATE_ZIPF}".encode()
        + CLINIC_WORDS.read_bytes()).hexdigest()[:16]
    found = cache_path(f"spelling-{version}.npz")
    if not found.is_file():
        build = f"import sys; from {__name__} import WordLists; WordLists.build(__import__('pathlib').Path(sys.argv[1]), tuple(sys.argv[2:]))"
        subprocess.run([sys.executable, "-c", build, str(found.resolve()), *languages], check=True, cwd=_PROJECT_ROOT,
                       timeout=300)
    return WordLists(found)


def cache_path(name: str) -> Path:
    """Where the cached file `name` is, or is to be built when it is in none of the cache folders:
    in the first writable one (the lists here, engine.names_model's Tesseract file)."""
    folders = _cache_folders()
    found = next((folder / name for folder in folders if (folder / name).exists()), None)
    return found or next((folder for folder in folders if _writable(folder)), folders[-1]) / name


def _cache_folders() -> list[Path]:
    """Where cached files are looked for, and built in the first one writable: the user's cache
    (shared by every stack on the machine, so they are built once; the image's, built with it),
    then var/cache."""
    user = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "timon-petstore"
    return [user, get_settings().var_dir / "cache"]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def _hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little", signed=True)


def _find(keys: np.ndarray, key: int) -> int | None:
    at = int(np.searchsorted(keys, key))
    return at if at < len(keys) and keys[at] == key else None


def _clinic_words() -> set[str]:
    lines = CLINIC_WORDS.read_text(encoding="utf-8").splitlines()
    return {line.strip().lower() for line in lines if line.strip() and not line.startswith("#")}


class Speller:
    """Puts back the misread words of one page's text (see the module's docstring)."""

    def __init__(self, languages: tuple[str, ...] = ("spa", "eng")) -> None:
        languages = tuple(language for language in languages if language in WORDFREQ_LANGUAGE)
        self._lists: WordLists | None = None
        try:
            self._lists = word_lists(languages) if languages else None
        except (OSError, subprocess.SubprocessError) as error:
            # no folder to build the lists in: pages are read as Tesseract reads them, not refused
            log.warning("OCR word lists unavailable, misread words stay as read: %s", error)

    def knows(self, word: str) -> bool:
        """Whether the word is one of this speller's languages' words (any case); False without lists."""
        return self._lists is not None and self._lists.exists(word.lower())

    def correction(self, word: str) -> str | None:
        """The word as printed, in the case it was read in; None to leave it as read."""
        if self._lists is None or self.knows(word):
            return None
        lower = word.lower()
        scored = sorted(((self._lists.zipf(candidate), candidate) for candidate in _one_edit(lower)), reverse=True)
        if not scored or scored[0][0] < MIN_CANDIDATE_ZIPF:
            return None
        if len(scored) > 1 and scored[0][0] - scored[1][0] < MARGIN_ZIPF:
            return None
        best = scored[0][1]
        if word.isupper():
            return best.upper()
        return best[0].upper() + best[1:] if word[0].isupper() else best

    def respell(self, text: str) -> str:
        """The text with its misread words, and its lone "l"s read for a 1, put back; everything else exactly as it was."""
        def put_back(match: re.Match) -> str:
            head, linebreak, tail = match.groups()
            word = head + (tail or "")
            if len(word) < _MIN_LETTERS or not (
                    word.islower() or word.istitle() or (word.isupper() and len(word) > MAX_ABBREVIATION)):
                return match.group()
            start = match.start()
            if _BROKEN_BEFORE.search(text[max(0, start - 16):start]):
                return match.group()
            printed = self.correction(word)
            if not printed:
                return match.group()
            if not linebreak:
                return printed
            # broken again where it was: only when the first half was read right
            return head + linebreak + printed[len(head):] if printed.startswith(head) else match.group()

        return _WORD.sub(put_back, _LONE_L.sub("1", text))


def _one_edit(word: str) -> set[str]:
    """Every string one misreading from the word: a letter read as its lookalike, or a glyph confusion undone."""
    found = set()
    for at, letter in enumerate(word):
        found.update(word[:at] + other + word[at + 1:] for other in _STANDS_FOR.get(letter, ""))
    for misread, printed in GLYPH_CONFUSIONS:
        at = word.find(misread)
        while at >= 0:
            found.add(word[:at] + printed + word[at + len(misread):])
            at = word.find(misread, at + 1)
    found.discard(word)
    return found
