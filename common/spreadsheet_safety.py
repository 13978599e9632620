"""Text a spreadsheet would run as a formula, made inert: for every CSV or XLSX a person downloads.

OWASP's rule: a cell is dangerous when it starts with `=`, `+`, `-`, `@`, a tab or a carriage
return. Such text gets a leading apostrophe, which Excel and LibreOffice show as plain text. Text
that is a plain number (`-1`, `+5`, `-1,5`, `-2.5e3`: spreadsheets read it as a number, and it can
call nothing) is left as it is, and so is every value that is not text.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# a sign, digits with `.` or `,` between them (either may be the decimal mark), an optional
# exponent or percent sign: only digits and separators, so never a function call or a DDE link
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)*[.,]?|[.,]\d+)(?:[eE][+-]?\d+)?%?")


def neutralise(value: Any) -> Any:
    """`value` with a leading apostrophe if it is text a spreadsheet would run as a formula; else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value
