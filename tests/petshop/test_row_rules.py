"""The row rules are written once: the per-row fast path and the worded slow path agree on every cell."""

from __future__ import annotations

import pytest

from petshop.app.imports.parse.headers import read_header
from petshop.app.imports.parse.records import InventoryRow, RowError
from petshop.app.imports.parse.validate import MAX_COUNT, RowValidator

HEADER = read_header(1, ["SKU", "Nombre", "Stock", "Precio", "Stock mínimo", "Categoría", "Proveedor"])
GOOD = ["A1", "Pienso", "3", "12.50", "1", "Perros", "Acme"]

CELLS = {
    0: ["A1", " A1 ", '="00123"', "", "   ", "x" * 64, "x" * 65, 123.0, 7, "=1+1"],
    1: ["Pienso", "", "n" * 255, "n" * 256, 3.5, None],
    2: ["0", "3", "007", "", "-1", "1.5", "2,0", "1.000", "abc", str(MAX_COUNT), str(MAX_COUNT + 1),
        "9" * 12, 3.0, -3.0, 2.5, float(MAX_COUNT + 1), 4, True],
    3: ["12.50", "12,50", "0", "-1", "0.004", "0.005", "1.234,56", "99999999.99", "100000000", "gratis", "", 9.99,
        12, "1e3"],
    4: ["", "0", "5", "-2", "1.5", 2.0, "x"],
    5: ["Perros", "", "c" * 256],
    6: ["Acme", "", "p" * 256],
}

CASES = [(column, value) for column, values in CELLS.items() for value in values]


def classify(result: InventoryRow | RowError | None) -> tuple:
    if isinstance(result, InventoryRow):
        return ("row", result.sku, result.name, result.stock, result.price, result.min_stock, result.category, result.supplier)
    if isinstance(result, RowError):
        return ("error", result.sku, result.column, result.message)
    return ("blank",)


@pytest.mark.parametrize(("column", "value"), CASES, ids=[f"col{c}-{v!r}"[:40] for c, v in CASES])
def test_the_fast_path_and_the_worded_path_give_the_same_verdict(column, value):
    row = list(GOOD)
    row[column] = value
    marks = dict.fromkeys(("stock", "price", "min_stock"), ".")
    fast = RowValidator(HEADER, lambda: marks).check(2, list(row))
    slow = RowValidator(HEADER, lambda: marks)._explain(2, [*row, ""])  # the sentinel check() appends
    assert classify(fast) == classify(slow)


def test_a_failed_row_names_every_problem_not_just_the_first():
    result = RowValidator(HEADER, dict).check(7, ["", "Pienso", "-1", "0", "x", "", ""])
    assert isinstance(result, RowError)
    assert result.line == 7 and result.column == "SKU"
    assert [part.split(" ")[0] for part in result.message.split("; ")] == ["Falta", "El", "El", "El"]
