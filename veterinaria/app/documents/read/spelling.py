"""Words Tesseract misread into words no language has, put back when one common word is a glyph away.

On old print, a worn ribbon or a faint copy, Tesseract's LSTM confuses glyphs that look alike:
"c" and "e" ("Seeretary", "diagnóstieo"), "i" and "l" ("Biackface", "Leucocltos"), "y" and "v"
("Tuesdav"), "m" and "rn". Its own dictionary does not stop it. Such a word is put back when:

- the word as read is in no word list: not Spanish or English (wordfreq's large lists, which hold
  rare words, names and inflections too), nor a language a page may quote (a French title, a Dutch
  recipe: their common words) — a word that exists anywhere is left as read;
- one edit away (a letter changed, added, dropped, two swapped; or one of the glyph confusions
  below) lies a common Spanish or English word, at least MIN_CANDIDATE_ZIPF, and clearly more
  common (MARGIN_ZIPF) than any other word that close — two close candidates are left alone.

Left alone as well: words with digits (codes, units, values: "T2N1N4", "4,1"), abbreviations in
capitals (up to MAX_ABBREVIATION letters: "VCM", "ALT"), words of mixed case, and words next to
an apostrophe or a hyphen. A word broken at a line-end hyphen is looked at whole ("be-⏎haye" is
"behave") and stays broken where it was. Drug names and pet
names are safe for the same reason: a correct one is far from any common word, and a misread one
is not "corrected" into something else unless that is common.
"""

from __future__ import annotations

import re
from functools import cache
from math import log10

from wordfreq import get_frequency_dict

#: Tesseract's language codes and wordfreq's.
WORDFREQ_LANGUAGE = {"spa": "es", "eng": "en"}
#: Languages a Spanish or English page may quote: a word common in one of them is not misread.
QUOTED_LANGUAGES = ("fr", "de", "nl", "it", "pt", "ca")
#: A candidate must be at least this common (Zipf scale: 3 is once per million words; "efficiency"
#: 4.4, "Blackface" 2.9, "bitstream" 1.9)...
MIN_CANDIDATE_ZIPF = 2.5
#: ...and this much more common than the next candidate (a factor of 10).
MARGIN_ZIPF = 1.0
MAX_ABBREVIATION = 5
#: Glyph confusions longer than one letter: (as misread, as printed).
GLYPH_CONFUSIONS = (("rn", "m"), ("m", "rn"), ("cl", "d"), ("li", "h"), ("vv", "w"), ("ri", "n"), ("ii", "ll"))
_LETTERS = "abcdefghijklmnopqrstuvwxyzáéíóúüñ"
#: A word of letters only, not joined to another by an apostrophe or a hyphen — or broken at a
#: line-end hyphen, its two halves ("be-⏎haye"), which are put back as one word and broken again.
_WORD = re.compile(r"(?<![\w'’-])([^\W\d_]+)(?:(-[ \t]*\n[ \t]*)([^\W\d_]+))?(?![\w'’-])")
_MIN_LETTERS = 3
_BROKEN_BEFORE = re.compile(r"-[ \t]*\n[ \t]*\Z")  # the second half of a word whose first half was not a word


@cache
def _word_lists(languages: tuple[str, ...]) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """The page's languages' large lists and the quoted languages' common-word lists (loaded once per process)."""
    own = [get_frequency_dict(WORDFREQ_LANGUAGE[language], "large") for language in languages
           if language in WORDFREQ_LANGUAGE]
    quoted = [get_frequency_dict(language, "small") for language in QUOTED_LANGUAGES]
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
    """Every string one edit from the word: a letter changed, added or dropped, two neighbours
    swapped, or one glyph confusion undone."""
    found = set()
    for cut in range(len(word) + 1):
        head, tail = word[:cut], word[cut:]
        found.update(head + letter + tail for letter in _LETTERS)
        if tail:
            found.add(head + tail[1:])
            found.update(head + letter + tail[1:] for letter in _LETTERS)
        if len(tail) > 1:
            found.add(head + tail[1] + tail[0] + tail[2:])
    for misread, printed in GLYPH_CONFUSIONS:
        at = word.find(misread)
        while at >= 0:
            found.add(word[:at] + printed + word[at + len(misread):])
            at = word.find(misread, at + 1)
    found.discard(word)
    return found
