"""Dates as Spanish clinics write them: 15/01/2024, 15-01-24, 15.01.2024, 2024-01-15, 15 de enero de 2024."""

from __future__ import annotations

import re
from datetime import date

from common.text import fold_keeping_length

_MONTHS = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
    "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
}
_SEP = r"\s*([/\-.])\s*"
_DAY_FIRST = re.compile(rf"(?<![\d/.\-])(\d{{1,2}}){_SEP}(\d{{1,2}})\s*\2\s*(\d{{4}}|\d{{2}})(?![\d/])")
_YEAR_FIRST = re.compile(rf"(?<![\d/.\-])(\d{{4}}){_SEP}(\d{{1,2}})\s*\2\s*(\d{{1,2}})(?![\d/])")
_WORDS = re.compile(
    r"(?<!\d)(\d{1,2})\s*(?:º|°|o\b)?\s*(?:de\s+|[-/.]\s*)?([a-z]{3,10})\.?\s*,?\s*(?:del?\s+|[-/.]\s*)?(\d{4}|\d{2})(?!\d)"
)


def _month(word: str) -> int | None:
    """A month from its name or an abbreviation of at least three letters (ene, sept, dic)."""
    for name, number in _MONTHS.items():
        if name.startswith(word):
            return number
    return None


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # two digits: this century unless that lands more than a year ahead
        year += 2000 if year <= date.today().year % 100 + 1 else 1900
    return year


def _valid(year: int, month: int, day: int) -> date | None:
    if not 1950 <= year <= 2100:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_dates(text: str) -> list[tuple[int, date]]:
    """Every date in the text with its position, in order of appearance."""
    folded = fold_keeping_length(text)
    found: list[tuple[int, date]] = []
    for match in _DAY_FIRST.finditer(folded):
        day, _, month, year = match.groups()
        if (value := _valid(_year(year), int(month), int(day))) is not None:
            found.append((match.start(), value))
    for match in _YEAR_FIRST.finditer(folded):
        year, _, month, day = match.groups()
        if (value := _valid(int(year), int(month), int(day))) is not None:
            found.append((match.start(), value))
    for match in _WORDS.finditer(folded):
        day, word, year = match.groups()
        month = _month(word)
        if month and (value := _valid(_year(year), month, int(day))) is not None:
            found.append((match.start(), value))
    return sorted(found, key=lambda item: item[0])


def parse_date(text: str) -> date | None:
    """The first date written in `text`, or None."""
    found = find_dates(text)
    return found[0][1] if found else None
