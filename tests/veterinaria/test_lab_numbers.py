"""Lab numbers as Spanish laboratories print them: thousands points, decimal commas, powers of ten.

Each line is read as the laboratory meant it, with the unit and the reference range settling
what a lone separator means; the number is kept as printed; what stays open is flagged.
"""

from __future__ import annotations

import pytest

from tests.veterinaria.lab_formats import FORMATS, OPEN
from veterinaria.app.documents.read.lab_values import parse_lab_line
from veterinaria.app.documents.read.numbers import parse_number, readings


@pytest.mark.parametrize(("line", "name", "value", "unit", "raw"), FORMATS, ids=[f[0][:40] for f in FORMATS])
def test_lab_numbers_read_as_the_laboratory_meant_them(line, name, value, unit, raw):
    found = parse_lab_line(line)

    assert found is not None
    assert (found.name, found.unit, found.raw) == (name, unit, raw)
    if value is OPEN:
        assert found.ambiguous and found.value is None
    else:
        assert not found.ambiguous
        assert found.value == pytest.approx(value)


def test_the_table_covers_enough_formats():
    assert len(FORMATS) >= 40


@pytest.mark.parametrize(
    ("text", "meant"),
    [("12.5", (12.5,)), ("12,5", (12.5,)), ("1.250,5", (1250.5,)), ("0.125", (0.125,)), ("95", (95.0,)),
     ("12.50", (12.5,)), ("1.250.000", (1250000.0,)), ("9.400", (9.4, 9400.0)), ("1,025", (1.025, 1025.0)),
     ("1,2,3", ()), ("12.34.56", ()), ("1.25,5", ())],
)
def test_what_the_printing_alone_says(text, meant):
    assert readings(text) == meant


def test_a_lone_separator_with_three_digits_is_open_without_its_line():
    assert parse_number("250.000") is None
    assert parse_number("250.5") == 250.5
