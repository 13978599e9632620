"""The four text-folding contracts of common/text.py, each with what sets it apart from the others."""

from __future__ import annotations

import pytest

from common.text import fold, fold_keeping_length, fold_with_origins, strip_accents


def test_strip_accents_keeps_case_spacing_and_punctuation():
    assert strip_accents("  Stock mín. (Uds)  ") == "  Stock min. (Uds)  "
    assert strip_accents("Ñandú PEQUEÑO") == "Nandu PEQUENO"


def test_fold_is_lower_case_without_accents_with_single_spaces_and_idempotent():
    assert fold("  Radiografía \t TÓRAX\n") == "radiografia torax"
    assert fold("Straße") == "strasse"  # casefold, not lower: "ß" compares as "ss"
    assert fold(fold("Ibáñez  Pérez")) == fold("Ibáñez  Pérez")


def test_fold_with_origins_points_every_folded_character_back_into_the_source():
    source = "Dr.  Ibáñez ﬁlm"
    folded, origin = fold_with_origins(source)
    assert folded == "dr.  ibanez film"  # spaces kept, the ligature is two letters now
    assert len(origin) == len(folded)
    start = folded.index("film")
    assert source[origin[start]:] == "ﬁlm"
    assert origin[start] == origin[start + 1]  # "f" and "i" both come from the ligature
    assert " ".join(folded.split()) == fold(source)


@pytest.mark.parametrize("text", ["Propietaría: María Ibáñez", "ﬁcha Straße", "İstanbul", "½ comprimido"])
def test_fold_keeping_length_keeps_every_position(text):
    folded = fold_keeping_length(text)
    assert len(folded) == len(text)
    start = folded.find("ma")
    if start >= 0:
        assert text[start:start + 2].lower().startswith("m")


def test_fold_keeping_length_folds_accents_and_case_like_fold_on_plain_spanish():
    assert fold_keeping_length("Propietaria") == fold_keeping_length("propietaría") == "propietaria"
    assert fold_keeping_length("VACUNACIÓN  Rabia") == "vacunacion  rabia"  # both spaces kept
