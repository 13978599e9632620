"""Find the header row of a messy sheet and map the user's column names to our fields.

Headers are compared after normalising (lower case, no accents, no punctuation, no currency or
text in brackets), against exact aliases: "Precio compra" is *not* a price (it is the cost), so
there is no fuzzy or substring matching.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from common.text import strip_accents
from petshop.app.imports.parse.cells import cell_text, column_letter
from petshop.app.imports.parse.errors import InventoryFileError

FIELDS = ("sku", "name", "stock", "price", "min_stock", "category", "supplier")
REQUIRED = ("sku", "name", "stock", "price")
#: How many non-blank rows from the top may hold titles, notes and blank lines before the header.
HEADER_SEARCH_ROWS = 30
#: How many of the user's column names a message or a job result lists (the rest are counted).
MAX_NAMES_SHOWN = 20

# field -> aliases as written by people (normalised below); "en" marks the English ones, so that
# a message about a missing column uses the language of the user's other headers.
_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "sku": {
        "es": ("Código", "Cod.", "Cód", "Referencia", "Ref", "Código producto", "Código de producto",
               "Código artículo", "Código de artículo", "Cod. artículo", "Ref. producto"),
        "en": ("Code", "Product code", "Item code", "Item number", "Reference"),
        "": ("SKU", "Código SKU", "SKU code"),
    },
    "name": {
        "es": ("Nombre", "Producto", "Descripción", "Artículo", "Nombre producto", "Nombre del producto",
               "Nombre de producto", "Denominación"),
        "en": ("Name", "Product", "Description", "Product name", "Item", "Item name"),
    },
    "stock": {
        "es": ("Cantidad", "Existencias", "Unidades", "Uds", "Stock actual", "Cant."),
        "en": ("Qty", "Quantity", "Units", "On hand", "Quantity on hand", "In stock"),
        "": ("Stock",),
    },
    "price": {
        "es": ("Precio", "Precio venta", "Precio de venta", "PVP", "Precio unitario", "Precio PVP",
               "P.V.P."),
        "en": ("Price", "Sale price", "Sales price", "Unit price", "Retail price", "Selling price"),
    },
    "min_stock": {
        "es": ("Stock mínimo", "Mínimo", "Stock min", "Stock mín.", "Punto de pedido", "Existencias mínimas",
               "Cantidad mínima"),
        "en": ("Min stock", "Minimum stock", "Reorder level", "Reorder point", "Min", "Minimum", "Min qty"),
    },
    "category": {
        "es": ("Categoría", "Familia", "Sección"),
        "en": ("Category", "Family"),
    },
    "supplier": {
        "es": ("Proveedor", "Distribuidor"),
        "en": ("Supplier", "Vendor"),
    },
}

#: How a missing column is named in the message, per language: (name, what else would do).
_DISPLAY = {
    "sku": {"es": ("SKU", "Código, Referencia"), "en": ("SKU", "Code, Reference")},
    "name": {"es": ("Nombre", "Producto, Descripción, name"), "en": ("Name", "Product, Description, Nombre")},
    "stock": {"es": ("Stock", "Cantidad, Existencias, qty"), "en": ("Stock", "Quantity, Qty, Cantidad")},
    "price": {"es": ("Precio", "price, PVP"), "en": ("Price", "Precio, PVP")},
}

_BRACKETS = re.compile(r"\(.*?\)|\[.*?\]")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_CURRENCY_WORDS = {"eur", "euros", "usd"}


def normalize_header(text: str) -> str:
    """ "  Stock mín. (uds) " -> "stock min": lower case, no accents, brackets or punctuation."""
    text = strip_accents(text.replace("€", " ").replace("$", " ")).lower()
    text = _BRACKETS.sub(" ", text)
    words = [w for w in _NOT_WORD.split(text) if w and w not in _CURRENCY_WORDS]
    return " ".join(words)


def _build_index() -> dict[str, tuple[str, str]]:
    index: dict[str, tuple[str, str]] = {}
    for name, by_language in _ALIASES.items():
        for language, aliases in by_language.items():
            for alias in aliases:
                index.setdefault(normalize_header(alias), (name, language))
    return index


_INDEX = _build_index()


def match_header(text: str) -> tuple[str, str] | None:
    """(field, language) for a header cell, or None for a column we do not know."""
    return _INDEX.get(normalize_header(text)) if text else None


@dataclass
class HeaderMatch:
    """The header row found in a sheet: which column index holds each field."""

    line: int
    indexes: dict[str, int]  # field -> 0-based column index
    labels: list[str]  # every header cell's text, "" where empty
    unknown_columns: list[str]
    language: str = "es"
    score: int = field(init=False)

    def __post_init__(self) -> None:
        self.score = len(self.indexes)

    @property
    def columns(self) -> dict[str, str]:
        """field -> the user's header text."""
        return {name: self.labels[index] for name, index in self.indexes.items()}

    def raw_names(self, width: int) -> list[str]:
        """A unique name for each of `width` columns: the header text, or "Columna F" if it has none."""
        names: list[str] = []
        seen: set[str] = set()
        for index in range(width):
            name = self.labels[index] if index < len(self.labels) else ""
            name = name or f"Columna {column_letter(index)}"
            unique, n = name, 2
            while unique in seen:
                unique, n = f"{name} ({n})", n + 1
            seen.add(unique)
            names.append(unique)
        return names


def read_header(line: int, cells: Sequence[object]) -> HeaderMatch:
    """Map one candidate header row (leftmost column wins when two name the same field)."""
    labels = [cell_text(cell) for cell in cells]
    while labels and not labels[-1]:
        labels.pop()
    indexes: dict[str, int] = {}
    unknown: list[str] = []
    languages = {"es": 0, "en": 0}
    for index, label in enumerate(labels):
        if not label:
            continue
        found = match_header(label)
        if found is None or found[0] in indexes:
            unknown.append(label)
            continue
        indexes[found[0]] = index
        if found[1]:
            languages[found[1]] += 1
    language = "en" if languages["en"] > languages["es"] else "es"
    return HeaderMatch(line=line, indexes=indexes, labels=labels, unknown_columns=unknown, language=language)


def find_header(rows: Iterable[tuple[int, Sequence[object]]], limit: int = HEADER_SEARCH_ROWS) -> HeaderMatch | None:
    """The row among the first `limit` non-blank ones that names most of our fields (earliest on a tie)."""
    best: HeaderMatch | None = None
    seen = 0
    for line, cells in rows:
        if cells.count("") == len(cells):
            continue
        candidate = read_header(line, cells)
        if candidate.score and (best is None or candidate.score > best.score):
            best = candidate
        seen += 1
        if seen >= limit:
            break
    return best


def _quote_list(names: Sequence[str]) -> str:
    quoted = [f"«{name}»" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " y " + quoted[-1]


def _missing_text(name: str, language: str) -> str:
    shown, also = _DISPLAY[name][language]
    return f"«{shown}» (también vale: {also})"


def check_required(header: HeaderMatch | None, *, searched: str = "en las primeras filas") -> HeaderMatch:
    """The header, if it has every required column; else InventoryFileError naming those it lacks."""
    if header is None:
        names = [_DISPLAY[name]["es"][0] for name in REQUIRED]
        raise InventoryFileError(
            f"No encuentro la fila de títulos de columna {searched}. "
            f"El inventario necesita las columnas {_quote_list(names)}.",
            code="header_not_found",
            details={"missing_fields": list(REQUIRED), "columns": {}},
        )
    missing = [name for name in REQUIRED if name not in header.indexes]
    if not missing:
        return header
    parts = [_missing_text(name, header.language) for name in missing]
    if len(parts) == 1:
        text = f"Falta la columna {parts[0]}."
    else:
        text = f"Faltan las columnas {', '.join(parts[:-1])} y {parts[-1]}."
    found = [label[:60] for label in header.labels if label]
    shown = _quote_list(found) if len(found) <= MAX_NAMES_SHOWN else (
        ", ".join(f"«{name}»" for name in found[:MAX_NAMES_SHOWN]) + f" y {len(found) - MAX_NAMES_SHOWN} columnas más"
    )
    raise InventoryFileError(
        f"{text} La fila de títulos (fila {header.line}) tiene: {shown}.", code="missing_columns",
        details={"missing_fields": missing, "columns": header.columns},
    )
