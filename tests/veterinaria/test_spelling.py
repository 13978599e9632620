"""Misread words put back (documents/read/spelling.py): a non-word one glyph from one common word
becomes that word; a word that exists anywhere, a code, an abbreviation or an ambiguous misreading
stays as read."""

from __future__ import annotations

import pytest
from wordfreq import zipf_frequency

from veterinaria.app.documents.read import extract_document, get_engine, spelling
from veterinaria.app.documents.read.spelling import Speller, word_lists


@pytest.fixture(scope="module")
def speller():
    return Speller(("spa", "eng"))


@pytest.mark.parametrize(
    ("read", "printed"),
    [
        # as Tesseract read real pages of bench/ocr_real.py: c/e, l/i, l/f, v/y, a letter swapped
        ("Seeretary", "Secretary"), ("efficieney", "efficiency"), ("efliciency", "efficiency"),
        ("Biackface", "Blackface"), ("Tuesdav", "Tuesday"), ("consurption", "consumption"), ("Cemsus", "Census"),
        # Spanish, in every case it can be read in
        ("diagnóstieo", "diagnóstico"), ("tratamiente", "tratamiento"), ("Leucocltos", "Leucocitos"),
        ("clínlco", "clínico"), ("RESULTADCS", "RESULTADOS"),
    ],
)
def test_a_misread_word_is_put_back(speller, read, printed):
    assert speller.respell(read) == printed


@pytest.mark.parametrize(
    "word",
    [
        "piometra", "meloxicam", "fluralaner", "Rissanen", "Ibáñez",  # rare but real: in no common list, far from one
        "Rabisin", "Drontal", "Simparica",  # brands a letter from "raisin", "frontal", "simpática": no such misreading
        "Librela",  # a lookalike from "libreta": in the clinic's vocabulary
        "zout", "faulen",  # a Dutch and a German word on a quoted line: one edit from "out", "fallen"
        "VCM", "HCTO", "GGT",  # abbreviations in capitals
        "T2NIN4", "XXXX0041",  # codes with digits
        "JgramOS",  # mixed case: not a word shape to correct
        "gatc", "vcz",  # "gato" or "gate", "vez" or "voz": two candidates, neither wins
        "Seeretary's",  # next to an apostrophe
    ],
)
def test_words_that_exist_or_are_not_words_stay_as_read(speller, word):
    assert speller.respell(word) == word


def test_only_the_misread_word_changes(speller):
    text = "El diagnóstieo:  otitis (oído izq.),\n\nVCM 71,5 fL; Tuesdav 3."
    assert speller.respell(text) == "El diagnóstico:  otitis (oído izq.),\n\nVCM 71,5 fL; Tuesday 3."


def test_a_word_broken_at_the_line_end_is_read_whole_and_stays_broken(speller):
    # "be-⏎haye": neither half is a word to correct, the whole is; "set-⏎tlement" is a word already
    assert speller.respell("I would be-\nhaye a while") == "I would be-\nhave a while"
    assert speller.respell("the set-\ntlement of") == "the set-\ntlement of"
    assert speller.respell("Shaw-\nPowell Co.") == "Shaw-\nPowell Co."


def test_the_engine_puts_back_a_misread_word_on_a_scanned_page(page_image, pdf_file):
    # the page is printed misspelled, as Tesseract would misread it: the reading keeps the
    # surrounding text and gives the word its spelling
    lines = ["Informe clínico de Luna (felino, 4 años)", "El diagnóstieo es otitis externa.",
             "Tratamiento: limpieza y gotas cada 12 horas."]
    text = extract_document(pdf_file([page_image(lines, dpi=300)], name="scan.pdf"), dpi=300,
                            engine=get_engine()).text
    assert "El diagnóstico es otitis externa." in text
    assert "Luna" in text and "cada 12 horas" in text


def test_the_compact_lists_agree_with_wordfreq():
    # the lists are kept as sorted hashes (WordLists), not as wordfreq's dictionaries: same answers
    lists = word_lists(("spa", "eng"))
    for word in ("gato", "efficiency", "tratamiento", "blackface"):
        assert abs(lists.zipf(word) - max(zipf_frequency(word, "es"), zipf_frequency(word, "en"))) < 0.01
    assert lists.zipf("ullapool") == 0.0  # real (Zipf 1.8) but too rare to be a candidate...
    assert lists.exists("ullapool")  # ...and still a word
    assert lists.exists("zout") and lists.exists("librela")  # a quoted language's word, the clinic's
    assert not lists.exists("seeretary")


def test_without_word_lists_a_page_is_read_as_tesseract_reads_it(monkeypatch):
    # no folder to build the lists in (a read-only container): OCR goes on, words stay as read
    def unavailable(languages):
        raise PermissionError("read-only")

    monkeypatch.setattr(spelling, "word_lists", unavailable)
    assert Speller(("spa", "eng")).respell("El diagnóstieo") == "El diagnóstieo"


@pytest.mark.parametrize(
    ("read", "printed"),
    [
        ("De linzen wassen en in l liter kokend", "De linzen wassen en in 1 liter kokend"),
        ("Dar l comprimido cada 12 h", "Dar 1 comprimido cada 12 h"),
        ("Beber 2 l de agua; 1,5 l al día", "Beber 2 l de agua; 1,5 l al día"),  # the litre, after a number
        ("l'eau, l. 3 y el l", "l'eau, l. 3 y el l"),  # not alone between words
    ],
)
def test_a_lone_l_between_words_is_the_digit_one(speller, read, printed):
    assert speller.respell(read) == printed


def test_a_page_read_in_french_gets_its_misread_french_words_put_back(speller):
    # the curled catalogue of bench/ocr_real.py, read again in French (languages.py)
    line = "conjurations religicuses pendant le règne; Ottavi, recucil de formules"
    assert speller.respell(line) == line  # Spanish and English have no candidate for them
    assert Speller(("fra", "spa", "eng")).respell(line) == "conjurations religieuses pendant le règne; Ottavi, recueil de formules"
