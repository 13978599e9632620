"""Numbers as suppliers write them: `1.234,56`, `1,234.56`, `1 234,56`, `12,50 €`, `$ 3.99`.

The one hard case is a single separator followed by exactly three digits (`1.234`, `1,234`): it
is either a thousands separator or a decimal mark with three decimals. The rule we apply:

1. A value that shows its decimal mark unambiguously decides nothing but itself (`12,5`, `1.234,56`,
   `1.234.567`, `0,125`).
2. An ambiguous value follows its *column's* decimal mark: if anywhere in the column a value uses
   `,` as the decimal mark, `.` is the thousands separator, and the other way round (majority wins
   if a column mixes both). A column with no evidence takes the mark of the file's other number
   columns.
3. With no evidence anywhere, three digits after a lone separator are a thousands group
   (`1.234` and `1,234` are both 1234): a price or a stock with three decimals is far less likely
   than a thousand.

`parse_decimal` applies the rule to one value given the column's mark; the reader works out the
marks (lazily, only when an ambiguous value shows up) with `decimal_mark_of`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

#: A column's decimal mark: "," or ".", or "" when nothing in the file tells (rule 3).
DecimalMark = str

#: Returned by `parse_decimal(..., decimal_mark=None)` for a value that needs the column's mark.
AMBIGUOUS: Final = object()

# Spaces of every kind are thousands separators (`1 234,56`, French/Spanish style with NBSP);
# currency symbols and the apostrophe (`1'234.50`, Swiss) carry no value.
_DROP = str.maketrans("", "", " \t\u00a0\u202f\u2009'’€$£")
_CURRENCY_CODES = ("EUROS", "EURO", "EUR", "USD", "GBP")
_SEPARATORS = str.maketrans("", "", ",.")


def _strip_decorations(text: str) -> tuple[bool, str] | None:
    """(negative, digits and separators only), or None if something else is in the way."""
    s = text.translate(_DROP)
    if not s:
        return None
    if not s[-1].isdigit() or not s[0].isdigit():
        upper = s.upper()
        for code in _CURRENCY_CODES:
            if upper.endswith(code):
                s = s[: -len(code)]
                break
            if upper.startswith(code):
                s = s[len(code) :]
                break
        if not s:
            return None
    negative = False
    if s[0] in "+-":
        negative = s[0] == "-"
        s = s[1:]
    elif s[-1] == "-":  # "12,50-": the sign trails in some ERP exports
        negative = True
        s = s[:-1]
    elif s[0] == "(" and s[-1] == ")":  # accountants' negative
        negative = True
        s = s[1:-1]
    if not s or not s.translate(_SEPARATORS).isdecimal():
        return None
    return negative, s


def _valid_groups(integer_part: str, separator: str) -> bool:
    """`1.234.567` is fine, `12.34.5` is not: after the first group every group has three digits."""
    groups = integer_part.split(separator)
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def parse_plain(text: str) -> Decimal | None:
    """The fast path for the usual `12`, `12.5`, `12,50`; None for anything else (even if valid)."""
    if text.isdecimal():
        return Decimal(text)
    mark = text.find(",")
    if mark < 0:
        mark = text.find(".")
    # a lone separator not followed by exactly three digits is a decimal mark in every convention
    if mark > 0 and len(text) - mark != 4:
        integer, fraction = text[:mark], text[mark + 1 :]
        if integer.isdecimal() and fraction.isdecimal():
            return Decimal(f"{integer}.{fraction}")
    return None


def parse_decimal(text: str, decimal_mark: DecimalMark | None = "") -> Decimal | object | None:
    """The number in `text`, None if it is not a number, AMBIGUOUS if `decimal_mark` is None and needed."""
    parts = _strip_decorations(text)
    if parts is None:
        return None
    negative, s = parts
    commas = s.count(",")
    dots = s.count(".")
    if commas and dots:
        mark = "," if s.rfind(",") > s.rfind(".") else "."
        thousands = "." if mark == "," else ","
        integer, _, fraction = s.rpartition(mark)
        if mark in integer or not _valid_groups(integer, thousands):
            return None
        number = integer.replace(thousands, "") + "." + fraction
    elif commas + dots == 0:
        number = s
    else:
        separator = "," if commas else "."
        if commas + dots > 1:  # the only separator, repeated: thousands
            if not _valid_groups(s, separator):
                return None
            number = s.replace(separator, "")
        else:
            integer, _, fraction = s.partition(separator)
            if len(fraction) != 3 or integer in ("", "0") or len(integer) > 3:
                is_decimal = True
            elif decimal_mark is None:
                return AMBIGUOUS
            else:
                is_decimal = decimal_mark == separator
            number = (integer or "0") + "." + fraction if is_decimal else integer + fraction
    value = Decimal(number)
    return -value if negative else value


def decimal_mark_of(text: str) -> DecimalMark | None:
    """The decimal mark `text` shows unambiguously ("," or "."), or None if it shows none."""
    parts = _strip_decorations(text)
    if parts is None:
        return None
    s = parts[1]
    commas = s.count(",")
    dots = s.count(".")
    if commas and dots:
        return "," if s.rfind(",") > s.rfind(".") else "."
    if commas + dots == 0:
        return None
    separator = "," if commas else "."
    other = "." if commas else ","
    if commas + dots > 1:
        return other if _valid_groups(s, separator) else None
    integer, _, fraction = s.partition(separator)
    if len(fraction) != 3 or integer in ("", "0") or len(integer) > 3:
        return separator
    return None


def majority_mark(counts: dict[str, int]) -> DecimalMark:
    """The mark most values showed, "" if none showed any."""
    commas = counts.get(",", 0)
    dots = counts.get(".", 0)
    if commas == dots == 0:
        return ""
    return "," if commas >= dots else "."
