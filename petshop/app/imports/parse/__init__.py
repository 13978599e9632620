"""The inventory import's parsing half (no database): turn a supplier's CSV/XLSX/ODS into validated rows.

    parsed = open_inventory(path)              # raises InventoryFileError (message for the user)
    for rows, errors in parsed.chunks():       # streamed; rows are InventoryRow, errors RowError
        ...
    parsed.total_rows                          # non-blank data rows seen

Steps, each its own module: sniff (magic bytes) → csv_reader / sheet_reader (+ sheet_guard, which
measures a sheet before calamine allocates it) → headers (header row and aliases) → validate
(per-row checks, with numbers for decimal commas and thousands separators).
"""

from petshop.app.imports.parse.errors import InventoryFileError
from petshop.app.imports.parse.reader import DEFAULT_CHUNK_SIZE, ParsedInventory, open_inventory
from petshop.app.imports.parse.records import InventoryRow, RowError
from petshop.app.imports.parse.sheet_guard import MAX_SHEET_CELLS
from petshop.app.imports.parse.sniff import HEAD_SIZE, sniff_file, sniff_format

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "HEAD_SIZE",
    "MAX_SHEET_CELLS",
    "InventoryFileError",
    "InventoryRow",
    "ParsedInventory",
    "RowError",
    "open_inventory",
    "sniff_file",
    "sniff_format",
]
