"""Words Tesseract misread into words no language has, put back when one common word is a glyph away.

On old print, a worn ribbon or a faint copy, Tesseract's LSTM confuses glyphs that look alike:
"c" and "e" ("Seeretary", "diagnóstieo"), "i" and "l" ("Biackface", "Leucocltos"), "y" and "v"
("Tuesdav"), "m" and "rn". Its own dictionary does not stop it. Such a word is put back when:

- the word as read is in no word list: not Spanish or English (wordfreq's large lists, which hold
  rare words, names and inflections too), nor a language a page may quote (a French title, a Dutch
  recipe: their common words), nor the clinic's own vocabulary (vet_words.txt: "Rabisin",
  "Librela", "piometra") — a word that exists anywhere is left as read;
- one misreading away (a letter for its lookalike, LOOKALIKES, or one of the GLYPH_CONFUSIONS)
  lies a common Spanish or English word, at least MIN_CANDIDATE_ZIPF, and clearly more
  common (MARGIN_ZIPF) than any other word that close — two close candidates are left alone.

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

import re
from collections.abc import Collection
from functools import cache
from math import log10
from pathlib import Path

from wordfreq import get_frequency_dict

#: Tesseract's language codes and wordfreq's.
WORDFREQ_LANGUAGE = {"spa": "es", "eng": "en"}
#: Languages a Spanish or English page may quote: a word common in one of them is not misread.
QUOTED_LANGUAGES = ("fr", "de", "nl", "it", "pt", "ca")
#: Medicines, vaccines, foods and clinical terms that the word lists lack: real words too.
CLINIC_WORDS = Path(__file__).with_name("vet_words.txt")
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
_BROKEN_BEFORE = re.compile(r"-[ \t]*\n[ \t]*\Z")  # the second half of a word whose first half was not a word


@cache
def _word_lists(languages: tuple[str, ...]) -> tuple[list[dict[str, float]], list[Collection[str]]]:
    """The page's languages' large lists; the words that exist besides (the quoted languages'
    common words, the clinic's vocabulary). Loaded once per process: about 85 MB, 0.4 s."""
    own = [get_frequency_dict(WORDFREQ_LANGUAGE[language], "large") for language in languages
           if language in WORDFREQ_LANGUAGE]
    quoted: list[Collection[str]] = [get_frequency_dict(language, "small") for language in QUOTED_LANGUAGES]
    lines = CLINIC_WORDS.read_text(encoding="utf-8").splitlines()
    quoted.append({line.strip().lower() for line in lines if line.strip() and not line.startswith("#")})
    return own, quoted


class Speller:
    """Puts back the misread words of one page's text (see the module's docstring)."""

    def __init__(self, languages: tuple[str, ...] = ("spa", "eng")) -> None:
        self._own, self._quoted = _word_lists(languages)

    def zipf(self, word: str) -> float:
        """How common the word is in the page's languages, on the Zipf scale (0: in no list)."""
        frequency = max(words.get(word, 0.0) for words in self._own)
        return log10(frequency) + 9 if frequency else 0.0

    def exists(self, word: str) -> bool:
        return any(word in words for words in self._own) or any(word in words for words in self._quoted)

    def correction(self, word: str) -> str | None:
        """The word as printed, in the case it was read in; None to leave it as read."""
        lower = word.lower()
        if not self._own or self.exists(lower):
            return None
        scored = sorted(((self.zipf(candidate), candidate) for candidate in _one_edit(lower)), reverse=True)
        if not scored or scored[0][0] < MIN_CANDIDATE_ZIPF:
            return None
        if len(scored) > 1 and scored[0][0] - scored[1][0] < MARGIN_ZIPF:
            return None
        best = scored[0][1]
        if word.isupper():
            return best.upper()
        return best[0].upper() + best[1:] if word[0].isupper() else best

    def respell(self, text: str) -> str:
        """The text with its misread words put back; everything else exactly as it was."""
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

        return _WORD.sub(put_back, text)


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
