"""What the parser hands to the writer: valid rows and the reasons the others failed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(slots=True)  # not frozen: frozen dataclasses build 4x slower, and this runs once per row
class InventoryRow:
    """One valid row, normalised. None means the cell was empty (or the column absent)."""

    line: int  # row number as the user sees it in their spreadsheet (1-based, title rows counted)
    sku: str  # stripped, leading zeros kept
    name: str | None
    stock: int | None  # >= 0
    price: Decimal | None  # > 0, quantized to cents
    min_stock: int | None  # >= 0
    category: str | None
    supplier: str | None


@dataclass(frozen=True, slots=True)
class RowError:
    """One rejected row: where, which SKU and column, and why in plain Spanish."""

    line: int
    sku: str | None
    column: str | None  # the user's header text
    message: str
    raw: dict[str, str]  # the row's original cells by the user's header names
