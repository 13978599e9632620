"""The language a page is written in, when it is neither Spanish nor English.

Pets cross borders with papers in their owners' languages: an EU pet passport, a referral from a
clinic in Perpignan or Rotterdam, a German lab's results. Read with Spanish and English only,
Tesseract loses the letters those two lack ("è", "ç", "ô", "ij", "ß") and misreads the words
around them; read again with the page's own language first, it gets them (page_ocr.read_page).

The language is told from the first reading's text by lingua's trigram models of the languages we
can read (Tesseract's data for each is a Debian package: tesseract-ocr-fra, -deu, …).
"""

from __future__ import annotations

import re
from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

#: lingua's language → Tesseract's code, for the languages a page may be read in besides ours
OTHER_LANGUAGES = {
    Language.FRENCH: "fra",
    Language.GERMAN: "deu",
    Language.DUTCH: "nld",
    Language.ITALIAN: "ita",
    Language.PORTUGUESE: "por",
    Language.CATALAN: "cat",
}
#: A page's language is told only from this many words or more: a label or a ticket is too short
#: to tell, and its few words are read well enough in Spanish and English.
MIN_WORDS = 20
#: lingua's confidence (0–1, among the languages above plus Spanish and English) needed to read a
#: page again in another language.
SURE = 0.9


#: Catalan's "ela geminada" ("amoxicil·lina", "cèl·lula"): Tesseract's Catalan model reads its
#: middle dot as a hyphen (and typists write it as a period). A vowel, l, hyphen or period, l (in
#: the same case), vowel is that; "Vall-llosera" and "Gil-Lázaro" (surnames of two words) are not.
_ELA_GEMINADA = re.compile(r"(?<=[aeiouàèéíïòóúü]l)[-.](?=l[aeiouàèéíïòóúü])|(?<=[AEIOUÀÈÉÍÏÒÓÚÜ]L)[-.](?=L[AEIOUÀÈÉÍÏÒÓÚÜ])")


@cache
def language_detector() -> LanguageDetector:
    """This process's detector, built on first need (0.2 s, about 27 MB with the library)."""
    # lingua's low accuracy mode loads a subset of its models: as accurate above 120 characters
    # (its documentation), and a page we classify has 20 words or more
    return (LanguageDetectorBuilder.from_languages(Language.SPANISH, Language.ENGLISH, *OTHER_LANGUAGES)
            .with_low_accuracy_mode().build())


def page_language(text: str) -> str | None:
    """Tesseract's code for the language `text` is written in, when it is one of OTHER_LANGUAGES
    and the text says so clearly; None for Spanish, English or a text too short or mixed to tell."""
    if len(text.split()) < MIN_WORDS:
        return None
    ranked = language_detector().compute_language_confidence_values(text)
    if not ranked or ranked[0].value < SURE:
        return None
    return OTHER_LANGUAGES.get(ranked[0].language)


def tidy(text: str, language: str) -> str:
    """`text`, read with `language` first, with what that language's model is known to misread put back."""
    if language == "cat":
        return _ELA_GEMINADA.sub("·", text)
    return text
