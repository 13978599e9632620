"""Cell values as the user sees them, whatever the reader returned (str, float, int, bool, date)."""

from __future__ import annotations

import datetime


def cell_text(value: object) -> str:
    """The text of a cell: `123.0` (a number in XLSX) is "123", a date is ISO, empty is ""."""
    if value.__class__ is str:
        return value.strip()  # type: ignore[union-attr]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VERDADERO" if value else "FALSO"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value).strip()


def column_letter(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA": to name a column that has no header."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
