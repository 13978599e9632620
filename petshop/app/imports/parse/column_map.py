"""A user's manual column mapping: {field: the file's column}, by header text or column letter.

    column_map = parse_column_map('{"price": "Importe", "sku": "A"}')   # at submit; raises ColumnMapError
    header = apply_column_map(header, column_map)                       # at parse; raises InventoryFileError

A column is named by its header text exactly as in the file (surrounding spaces ignored) or by its
letter ("C", case-insensitive); header text wins when a header is itself a letter. Mapped fields
override what detection found; a column detection gave to another field loses that field.
"""

from __future__ import annotations

import json
import re

from petshop.app.imports.parse.cells import column_letter
from petshop.app.imports.parse.errors import InventoryFileError
from petshop.app.imports.parse.headers import FIELDS, HeaderMatch

#: the longest column_map form value accepted (seven fields, each a header of up to 200 characters)
MAX_MAP_LENGTH = 4000
MAX_REFERENCE_LENGTH = 200
#: how many of the file's column names a failed job's result (and a message) lists
FILE_COLUMNS_SHOWN = 50
_LETTER = re.compile(r"^[A-Za-z]{1,3}$")
FIELD_NAMES_ES = {"sku": "SKU", "name": "Nombre", "stock": "Stock", "price": "Precio", "min_stock": "Stock mínimo",
                  "category": "Categoría", "supplier": "Proveedor"}


class ColumnMapError(ValueError):
    """A column_map that cannot be used whatever the file: `message` Spanish, `code` stable."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def parse_column_map(text: str | None) -> dict[str, str] | None:
    """The form field's JSON as {field: column reference}; None when absent or "{}"."""
    if text is None or not text.strip():
        return None
    if len(text) > MAX_MAP_LENGTH:
        raise ColumnMapError(f"La asignación de columnas es demasiado larga (máximo {MAX_MAP_LENGTH} caracteres).",
                             code="column_map_too_long")
    try:
        value = json.loads(text)
    except ValueError:
        raise ColumnMapError('La asignación de columnas no es JSON válido. Ejemplo: {"price": "Importe", "sku": "A"}.',
                             code="column_map_invalid_json") from None
    if not isinstance(value, dict):
        raise ColumnMapError('La asignación de columnas debe ser un objeto JSON, p. ej. {"price": "Importe"}.',
                             code="column_map_not_object")
    unknown = [str(name) for name in value if name not in FIELDS]
    if unknown:
        raise ColumnMapError(f"La asignación de columnas nombra datos que no existen: {', '.join(unknown)}. "
                             f"Los datos son: {', '.join(FIELDS)}.", code="column_map_unknown_field")
    result: dict[str, str] = {}
    for name, reference in value.items():
        if not isinstance(reference, str) or not reference.strip():
            raise ColumnMapError(f"La columna de «{name}» debe ser un texto no vacío: el título de la columna "
                                 "o su letra (p. ej. \"C\").", code="column_map_bad_column")
        if len(reference) > MAX_REFERENCE_LENGTH:
            raise ColumnMapError(f"La columna de «{name}» es demasiado larga (máximo {MAX_REFERENCE_LENGTH} caracteres).",
                                 code="column_map_bad_column")
        result[name] = reference.strip()
    _no_shared_column({name: ref.casefold() if _LETTER.match(ref) else ref for name, ref in result.items()})
    return result or None


def _no_shared_column(columns: dict[str, object]) -> None:
    by_column: dict[object, list[str]] = {}
    for name, column in columns.items():
        by_column.setdefault(column, []).append(name)
    for names in by_column.values():
        if len(names) > 1:
            raise ColumnMapError(f"La asignación de columnas pone {' y '.join(names)} en la misma columna: "
                                 "cada dato necesita su propia columna.", code="column_map_shared_column")


def file_columns(header: HeaderMatch) -> list[str]:
    """The header row's labels for a result (capped), "" where a column has no title."""
    return [label[:MAX_REFERENCE_LENGTH] for label in header.labels[:FILE_COLUMNS_SHOWN]]


def _resolve(reference: str, labels: list[str]) -> int | None:
    for index, label in enumerate(labels):
        if label == reference:
            return index
    if _LETTER.match(reference):
        for index in range(len(labels)):
            if column_letter(index) == reference.upper():
                return index
    return None


def apply_column_map(header: HeaderMatch, column_map: dict[str, str]) -> HeaderMatch:
    """The header with the mapped fields on the mapped columns; InventoryFileError if one is not in the file."""
    labels = header.labels
    mapped: dict[str, int] = {}
    for name, reference in column_map.items():
        index = _resolve(reference, labels)
        if index is None:
            listed = [f"{column_letter(i)} «{label}»" if label else column_letter(i)
                      for i, label in enumerate(labels[:FILE_COLUMNS_SHOWN])]
            raise InventoryFileError(
                f"La columna «{reference}» asignada a {FIELD_NAMES_ES[name]} no está en el archivo. "
                f"Las columnas de la fila de títulos (fila {header.line}) son: {', '.join(listed) or 'ninguna'}.",
                code="mapped_column_missing",
            )
        mapped[name] = index
    try:
        _no_shared_column(mapped)
    except ColumnMapError as exc:
        raise InventoryFileError(exc.message, code=exc.code) from None
    taken = set(mapped.values())
    indexes = {name: index for name, index in header.indexes.items() if name not in mapped and index not in taken}
    indexes.update(mapped)
    used = set(indexes.values())
    unknown = [label for index, label in enumerate(labels) if label and index not in used]
    return HeaderMatch(line=header.line, indexes=indexes, labels=labels, unknown_columns=unknown,
                       language=header.language)
