"""Accents survive OCR: a scanned page reads names as the text layer of the same page does, and an
accent Spanish spelling never writes is not put back."""

from __future__ import annotations

import pytest

from tests.veterinaria.samples import sample_document
from veterinaria.app.documents.read import extract_document, extract_fields, get_engine
from veterinaria.app.documents.read.engine import spanish_accents


@pytest.fixture(scope="module")
def engine():
    return get_engine()


@pytest.mark.parametrize("index", [0, 5])
def test_a_scan_spells_the_vet_as_the_text_layer_does(index, page_image, pdf_file, engine):
    # an analysis sheet: its units are read by the English model, which then kept reading the
    # Spanish words after them without accents ("Diego Torres Ibanez")
    sample = sample_document(index, document_type="analisis")
    lines = [*sample.lines, "Revisado por: Dr. Tomás Ibáñez"]
    scanned = extract_document(pdf_file([page_image(lines, dpi=300)], name="scan.pdf"), dpi=300, engine=engine)
    typed = extract_document(pdf_file([lines], name="typed.pdf"), engine=engine)

    assert extract_fields(scanned.text).vet_name == extract_fields(typed.text).vet_name == sample.vet
    assert "Tomás Ibáñez" in scanned.text
    assert sample.owner in scanned.text


@pytest.mark.parametrize(
    "word",
    ["Ibáñez", "Tomás", "Martínez", "corazón", "fémur", "cárcel", "análisis", "ÁNGEL", "más", "Ibanez",
     "maíz", "Raúl", "país", "ecografía", "sí", "Él", "¿Qué", "quién", "cuál"],
)
def test_spanish_spellings_keep_their_accents(word):
    assert spanish_accents(word)


@pytest.mark.parametrize("word", ["bandít", "hospitál", "salúd", "dáté", "só", "fár", "thé"])
def test_accents_spanish_never_writes_are_not_restored(word):
    # the Spanish model, re-reading faint English words, put accents where Spanish spelling never would
    assert not spanish_accents(word)
