"""Check one data row and turn it into an InventoryRow, or explain in a RowError why not.

Each rule is written once, in the functions below. `RowValidator.check` runs them on every row
(files have a million rows, so each takes a short path for the usual cells: plain text, plain
digits, numbers from XLSX cells; anything unusual goes through `numbers`), and `_explain` runs the
same functions again to word every problem of a row that failed.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter

from petshop.app.imports.parse.cells import cell_text
from petshop.app.imports.parse.headers import HeaderMatch
from petshop.app.imports.parse.numbers import AMBIGUOUS, DecimalMark, parse_decimal, parse_plain
from petshop.app.imports.parse.records import InventoryRow, RowError

#: Limits of the database columns the rows go into; a longer value fails its row, not the import.
MAX_SKU_LENGTH = 64
MAX_TEXT_LENGTH = 255
MAX_PRICE = Decimal("99999999.99")
MAX_COUNT = 2_147_483_647

NUMBER_FIELDS = ("stock", "price", "min_stock")
_CENT = Decimal("0.01")
_WHAT = {"stock": "El stock", "min_stock": "El stock mínimo", "price": "El precio"}


class _Bad(Exception):
    """One cell's problem, already worded for the user."""


class _NeedsMark(Exception):
    """An ambiguous number (`1.234`) met a column whose decimal mark is not known yet."""


def _text(value: object, limit: int, label: str) -> str | None:
    """A text cell, stripped; None when empty; _Bad when longer than its column."""
    text = value.strip() if value.__class__ is str else cell_text(value)  # type: ignore[union-attr]
    if len(text) > limit:
        raise _Bad(f"El texto de «{label}» es demasiado largo ({len(text)} caracteres; máximo {limit})")
    return text or None


def _number(value: object, name: str, mark: DecimalMark | None) -> Decimal | None:
    """A cell as a Decimal, None when empty; _Bad when it is not a number."""
    if value.__class__ is str:
        text = value.strip()  # type: ignore[union-attr]
        if not text:
            return None
        number = parse_decimal(text, mark)
        if number is AMBIGUOUS:
            raise _NeedsMark(name)
        if number is None:
            raise _Bad(f"{_WHAT[name]} «{text}» no es un número")
        return number  # type: ignore[return-value]
    if isinstance(value, float):
        return Decimal(repr(value))  # repr is the shortest exact form: 12.3 -> "12.3", not 12.2999…
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise _Bad(f"{_WHAT[name]} «{cell_text(value)}» no es un número")


def _count(value: object, name: str, mark: DecimalMark | None) -> int | None:
    """A whole number from 0 to MAX_COUNT (stock, minimum stock); None when empty."""
    # the usual cells first: plain digits in a CSV (under 10 digits, so within MAX_COUNT), a whole float
    if value.__class__ is str and value.isdecimal() and len(value) < 10:  # type: ignore[union-attr]
        return int(value)  # type: ignore[arg-type]
    if value.__class__ is float and value.is_integer() and 0 <= value <= MAX_COUNT:  # type: ignore[operator]
        return int(value)  # type: ignore[arg-type]
    number = _number(value, name, mark)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise _Bad(f"{_WHAT[name]} «{cell_text(value)}» no es un número entero")
    count = int(number)
    if count < 0:
        raise _Bad(f"{_WHAT[name]} no puede ser negativo: «{cell_text(value)}»")
    if count > MAX_COUNT:
        raise _Bad(f"{_WHAT[name]} «{cell_text(value)}» es demasiado grande")
    return count


def _price(value: object, mark: DecimalMark | None) -> Decimal | None:
    """A price > 0 and at most MAX_PRICE, rounded half up to cents; None when empty."""
    if value.__class__ is float:
        price = Decimal(repr(value))  # repr is the shortest exact form: 12.3 -> "12.3", not 12.2999…
    elif value.__class__ is str and len(value) < 12:  # type: ignore[arg-type]
        price = parse_plain(value)  # type: ignore[arg-type]
    else:
        price = None
    if price is None:
        price = _number(value, "price", mark)
        if price is None:
            return None
    if price > MAX_PRICE:
        raise _Bad(f"El precio «{cell_text(value)}» es demasiado alto")
    if price > 0:
        price = price.quantize(_CENT, ROUND_HALF_UP)
    if price <= 0:
        raise _Bad(f"El precio debe ser mayor que cero: «{cell_text(value)}»")
    return price


def _sku(value: object) -> str:
    """The SKU as written, leading zeros kept; "" when missing."""
    if value.__class__ is str:
        sku = value.strip()  # type: ignore[union-attr]
        if sku[:2] == '="' and sku[-1:] == '"' and len(sku) > 2:
            sku = sku[2:-1].strip()  # Excel's trick to keep leading zeros in a CSV: ="00123"
        return sku
    return cell_text(value)


class RowValidator:
    """Turns the data rows of one file into InventoryRow / RowError, remembering SKUs already seen."""

    def __init__(self, header: HeaderMatch, resolve_marks: Callable[[], dict[str, DecimalMark]]) -> None:
        indexes = header.indexes
        self._labels = header.columns
        self._header = header
        # absent optional columns read the sentinel "" appended to every row (index -1)
        order = ("sku", "name", "stock", "price", "min_stock", "category", "supplier")
        self._get = itemgetter(*(indexes.get(name, -1) for name in order))
        self._width = max(indexes.values()) + 1
        self._resolve_marks = resolve_marks
        self._marks: dict[str, DecimalMark | None] = dict.fromkeys(NUMBER_FIELDS)
        self._raw_names: list[str] = []
        self.first_line_of: dict[str, int] = {}

    def check(self, line: int, row: list) -> InventoryRow | RowError | None:
        """The row as an InventoryRow, its RowError, or None if it holds nothing but blanks.

        The same rule functions as `_explain`, which runs them again to word every problem of a
        row that fails one.
        """
        short = self._width - len(row)
        if short > 0:
            row.extend([""] * short)
        row.append("")
        sku, name, stock, price, min_stock, category, supplier = self._get(row)
        marks = self._marks
        try:
            sku = _sku(sku)
            name = _text(name, MAX_TEXT_LENGTH, "")
            stock = _count(stock, "stock", marks["stock"])
            price = _price(price, marks["price"])
            min_stock = _count(min_stock, "min_stock", marks["min_stock"])
            category = _text(category, MAX_TEXT_LENGTH, "")
            supplier = _text(supplier, MAX_TEXT_LENGTH, "")
        except (_Bad, _NeedsMark):
            return self._explain(line, row)
        if not sku or len(sku) > MAX_SKU_LENGTH or self.first_line_of.setdefault(sku, line) != line:
            return self._explain(line, row)
        return InventoryRow(line, sku, name, stock, price, min_stock, category, supplier)

    def _resolve(self) -> None:
        if any(mark is None for mark in self._marks.values()):
            self._marks.update(self._resolve_marks())

    def _explain(self, line: int, row: list) -> InventoryRow | RowError | None:
        """The slow path: every problem of the row, worded; or the row itself once marks are known."""
        del row[-1]  # the sentinel
        sku = _sku(row[self._header.indexes["sku"]])
        problems: list[tuple[str | None, str]] = []
        values: dict[str, object] = {}
        parsers: dict[str, Callable[[object], object]] = {
            "name": lambda v: _text(v, MAX_TEXT_LENGTH, self._labels["name"]),
            "stock": lambda v: _count(v, "stock", self._marks["stock"]),
            "price": lambda v: _price(v, self._marks["price"]),
            "min_stock": lambda v: _count(v, "min_stock", self._marks["min_stock"]),
            "category": lambda v: _text(v, MAX_TEXT_LENGTH, self._labels.get("category", "")),
            "supplier": lambda v: _text(v, MAX_TEXT_LENGTH, self._labels.get("supplier", "")),
        }
        for name, parse in parsers.items():
            index = self._header.indexes.get(name)
            if index is None:
                values[name] = None
                continue
            try:
                try:
                    values[name] = parse(row[index])
                except _NeedsMark:
                    self._resolve()
                    values[name] = parse(row[index])
            except _Bad as exc:
                problems.append((name, str(exc)))
        if all(cell_text(cell) == "" for cell in row):
            return None  # only spaces: a blank row
        if not sku:
            problems.insert(0, ("sku", f"Falta el SKU (la celda de «{self._labels['sku']}» está vacía)"))
        elif len(sku) > MAX_SKU_LENGTH:
            problems.insert(0, ("sku", f"El SKU «{sku[:20]}…» es demasiado largo (máximo {MAX_SKU_LENGTH} caracteres)"))
        else:
            first = self.first_line_of.setdefault(sku, line)
            if first != line:
                problems.insert(0, ("sku", f"El SKU «{sku}» está repetido: ya aparece en la fila {first}"))
        if not problems:
            return InventoryRow(line, sku, **values)  # type: ignore[arg-type]
        column = problems[0][0]
        return RowError(
            line=line,
            sku=sku or None,
            column=self._labels.get(column) if column else None,
            message="; ".join(message for _, message in problems),
            raw=self._raw(row),
        )

    def _raw(self, row: list) -> dict[str, str]:
        labels = len(self._header.labels)
        width = len(row)
        while width > labels and row[width - 1] == "":
            width -= 1
        width = max(width, labels)
        if len(self._raw_names) < width:
            self._raw_names = self._header.raw_names(width)
        return {self._raw_names[i]: cell_text(row[i]) if i < len(row) else "" for i in range(width)}
