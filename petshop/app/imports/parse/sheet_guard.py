"""Measure a sheet before python-calamine loads it.

calamine stores a sheet as a dense rows × columns grid spanning every cell that has a value. One
stray value at XFD1048576 makes it ask for 16384 × 1048576 cells: for XLSX the Rust allocator
aborts the whole process (no exception, the worker just dies); for ODS it raises above 100 million
cells, and below that it can still abort the same way. So we find the bounding box of the cells *with a value* by
scanning the sheet's XML inside the ZIP ourselves, streaming, and refuse big boxes with a
message. Cells that only carry formatting, and LibreOffice's long runs of repeated empty cells,
do not count: calamine skips them too.
"""

from __future__ import annotations

import functools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape

from petshop.app.imports.parse.cells import column_letter

#: The largest grid we let calamine allocate (about 30 bytes a cell: 20 M cells ≈ 600 MB).
MAX_SHEET_CELLS = 20_000_000
#: Uncompressed XML we are willing to read: a 20 MB upload that inflates past this is a zip bomb.
MAX_XML_BYTES = 1 << 30
#: What reading one file may add to a worker child (Settings.file_memory_budget_bytes by default).
MEMORY_BUDGET = 250_000_000
_BLOCK = 1 << 20
_MAX_TAG = 16 << 20


class XmlTooLarge(Exception):
    """The XML inside the archive is larger than MAX_XML_BYTES."""


@dataclass
class Box:
    """The bounding box (0-based, inclusive) of the cells that have a value."""

    min_row: int = 1 << 62
    min_col: int = 1 << 62
    max_row: int = -1
    max_col: int = -1

    @property
    def empty(self) -> bool:
        return self.max_row < 0

    @property
    def cells(self) -> int:
        if self.empty:
            return 0
        return (self.max_row - self.min_row + 1) * (self.max_col - self.min_col + 1)

    @property
    def last_cell(self) -> str:
        """The bottom-right corner as the user would type it, e.g. "XFD1048576"."""
        return f"{column_letter(self.max_col)}{self.max_row + 1}"

    def add(self, row: int, col: int, last_row: int | None = None, last_col: int | None = None) -> None:
        self.min_row = min(self.min_row, row)
        self.min_col = min(self.min_col, col)
        self.max_row = max(self.max_row, row if last_row is None else last_row)
        self.max_col = max(self.max_col, col if last_col is None else last_col)


def _pieces(archive: zipfile.ZipFile, member: str) -> Iterator[tuple[bytes, bytes]]:
    """The member's XML in ~1 MiB pieces cut just before a '<', each with a peek at what follows.

    No tag is ever split between two pieces; a run of text is dropped (it holds no tags).
    """
    total = 0
    tail = b""
    with archive.open(member) as stream:
        while block := stream.read(_BLOCK):
            total += len(block)
            if total > MAX_XML_BYTES:
                raise XmlTooLarge(member)
            data = tail + block
            cut = data.rfind(b"<")
            if cut > 0:
                yield data[:cut], data[cut : cut + 8]
                tail = data[cut:]
            elif cut < 0:  # text only (a tail always starts with "<")
                tail = b""
            else:  # one tag, perhaps unfinished, then text
                end = data.find(b">")
                if end < 0:
                    if len(data) > _MAX_TAG:
                        raise XmlTooLarge(member)
                    tail = data
                else:
                    yield data[: end + 1], data[end + 1 : end + 9]
                    tail = b""
    if tail:
        yield tail, b""


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + (letter - 64)
    return number - 1


# -- XLSX -----------------------------------------------------------------------------------

# The common shape (Excel, LibreOffice, openpyxl, XlsxWriter): `<c r="B7" ...>` with `r` first.
_XLSX_CELL_ROW = re.compile(rb'<c r="[A-Z]+([0-9]+)"')
_XLSX_CELL_COLUMN = re.compile(rb'<c r="([A-Z]+)[0-9]')
# ...and of those, the cells with a value: not self-closing and not closed at once.
_XLSX_VALUED_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"[^>]*(?<!/)>(?!</)')
# Anything else (a cell without `r`, a prefixed `<x:c>`, another attribute first) sends the whole
# sheet to the slower, general tokenizer below.
_XLSX_ODD_CELL = re.compile(rb'<c(?! r="[A-Z])[\s>/]|<[A-Za-z_][\w.-]*:c[\s>/]')
_XLSX_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^>]*)>")
_REF = re.compile(rb'\br="([A-Za-z]*)([0-9]*)"')


def _columns_outside(low: int, high: int) -> re.Pattern[bytes]:
    """Matches a cell whose column is left of `low` or right of `high` (both single letters)."""
    ranges = ["[A-Z]{2,}"]
    if high < 25:
        ranges.append(f"[{chr(66 + high)}-Z]")
    if low > 0:
        ranges.append(f"[A-{chr(64 + low)}]")
    return re.compile(b'<c r="(' + "|".join(ranges).encode() + b")[0-9]")


@functools.lru_cache(maxsize=256)
def _unlike(low: int, high: int, digits: int, lead: int) -> re.Pattern[bytes]:
    """Matches any cell *not* of the form `<c r="B12"` with its column in low..high (single letters)
    and a row number below (lead + 1) × 10^(digits - 1), including cells without `r` and prefixed ones."""
    columns = f"[{chr(65 + low)}-{chr(65 + high)}]".encode() if low >= 0 else b"(?!)"
    rows = b"[1-%d]" % lead + (b"[0-9]{%d}" % (digits - 1) if digits > 1 else b"")
    if digits > 1:
        rows = b"(?:[0-9]{1,%d}|%s)" % (digits - 1, rows)
    return re.compile(rb'<(?:c(?! r="' + columns + rows + rb'")[\s>/]|[A-Za-z_][\w.-]*:c[\s>/])')


_PLAIN_CELL = re.compile(rb'<c r="([A-Z])([1-9][0-9]{0,6})"')


def _xlsx_box_digits(archive: zipfile.ZipFile, member: str) -> Box | None:
    """The cheapest bound: rows below the largest row's leading digit + 1, times its power of ten.

    A 100,001-row sheet is bounded by 199,999 rows, well within the limit for a few columns. One
    regular-expression search per piece of XML, at C speed, looks for a cell that widens the bound;
    in a normal sheet only the first few cells do. None for anything unusual (a cell without `r`,
    a column past Z, a row number of eight digits or with a leading zero), which the slower bounds handle.
    """
    low = high = -1
    digits = lead = 0
    for piece, _ in _pieces(archive, member):
        position = 0
        while found := _unlike(low, high, max(digits, 1), max(lead, 1)).search(piece, position):
            cell = _PLAIN_CELL.match(piece, found.start())
            if cell is None or piece[cell.end() : cell.end() + 1] not in (b" ", b">", b"/"):
                return None
            column = cell.group(1)[0] - 65
            low, high = (column, column) if low < 0 else (min(low, column), max(high, column))
            row = cell.group(2)
            if len(row) > digits:
                digits, lead = len(row), row[0] - 48
            elif len(row) == digits:
                lead = max(lead, row[0] - 48)
            position = found.start()
    box = Box()
    if digits:
        box.add(0, low, (lead + 1) * 10 ** (digits - 1) - 1, high)
    return box


def _columns_seen(piece: bytes, low: int, high: int) -> tuple[int, int]:
    """The columns of the cells so far, widened by those of `piece`.

    Searches for a cell outside the columns seen so far, which in a normal sheet finds nothing;
    only the first piece, or a sheet with columns past Z, has every column read.
    """
    if 0 <= high < 26:
        position = 0
        while high < 26 and (found := _columns_outside(low, high).search(piece, position)):
            column = _column_number(found.group(1))
            low, high = min(low, column), max(high, column)
            position = found.start() + 1
    if not 0 <= high < 26:
        columns = [_column_number(c) for c in set(_XLSX_CELL_COLUMN.findall(piece))]
        if columns:
            low = min(columns) if low < 0 else min(low, *columns)
            high = max(high, *columns)
    return low, high


def _xlsx_box_upper(archive: zipfile.ZipFile, member: str) -> Box | None:
    """A tighter bound: the box of *every* cell, valued or not; None if some cell is unusual.

    Per cell only the row number goes through Python.
    """
    box = Box()
    low = high = -1
    for piece, _ in _pieces(archive, member):
        rows = _XLSX_CELL_ROW.findall(piece)
        if piece.count(b"<c ") != len(rows) or b"<c>" in piece or b":c " in piece:
            return None
        if not rows:
            continue
        numbers = [int(r) for r in set(rows)]
        low, high = _columns_seen(piece, low, high)
        box.add(min(numbers) - 1, low, max(numbers) - 1, high)
    return box


def _xlsx_box_valued(archive: zipfile.ZipFile, member: str) -> Box | None:
    """The exact box of the valued cells, from `r` attributes; None if some cell is unusual."""
    box = Box()
    for piece, peek in _pieces(archive, member):
        if _XLSX_ODD_CELL.search(piece):
            return None
        found = _XLSX_VALUED_CELL.findall(piece + peek[:2])
        if not found:
            continue
        letters, digits = zip(*found)
        columns = [_column_number(c) for c in set(letters)]
        rows = [int(r) - 1 for r in set(digits)]
        box.add(min(rows), min(columns), max(rows), max(columns))
    return box


def _xlsx_box_general(archive: zipfile.ZipFile, member: str) -> Box:
    """Tag by tag, as calamine reads it: cells without `r` follow the previous one in the row."""
    box = Box()
    row = col = -1
    for piece, peek in _pieces(archive, member):
        text = piece + peek
        for match in _XLSX_TAG.finditer(piece):
            closing, name, attrs = match.groups()
            if closing:
                continue
            ref = _REF.search(attrs)
            if name == b"row":
                row = int(ref.group(2)) - 1 if ref and ref.group(2) else row + 1
                col = -1
                continue
            if ref and ref.group(1):
                col = _column_number(ref.group(1))
                cell_row = int(ref.group(2)) - 1 if ref.group(2) else row
            else:
                col += 1
                cell_row = row
            if attrs.endswith(b"/") or text.startswith(b"</", match.end()):
                continue
            box.add(max(cell_row, 0), col)
    return box


def xlsx_sheet_box(archive: zipfile.ZipFile, member: str, *, limit: int | None = None) -> Box:
    """The bounding box of the valued cells of one worksheet part, e.g. "xl/worksheets/sheet1.xml".

    With `limit`, a cheaper upper bound (which also counts cells that only carry formatting) is
    returned instead whenever it is within the limit.
    """
    if limit is not None:
        for bound in (_xlsx_box_digits, _xlsx_box_upper):
            upper = bound(archive, member)
            if upper is not None and upper.cells <= limit:
                return upper
    box = _xlsx_box_valued(archive, member)
    return box if box is not None else _xlsx_box_general(archive, member)


# -- ODS ------------------------------------------------------------------------------------

# Opening tags of tables, rows and cells (with a peek at whether the element closes at once) and
# the closing tags of rows and tables; a cell's closing tag is of no interest.
_ODS_TAG = re.compile(
    rb"<table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*)>(?=(</)?)|</table:(table-row|table)>"
)
_ODS_NAME = re.compile(rb'table:name="([^"]*)"')
_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="([0-9]+)"')
_COLUMNS_REPEATED = re.compile(rb'table:number-columns-repeated="([0-9]+)"')


def _repeat(pattern: re.Pattern[bytes], attrs: bytes) -> int:
    if b"repeated" not in attrs:
        return 1
    found = pattern.search(attrs)
    return max(1, int(found.group(1))) if found else 1


def ods_sheet_boxes(archive: zipfile.ZipFile) -> dict[str, Box]:
    """The bounding box of the valued cells of every sheet (calamine loads them all at once).

    A cell counts if it has a value type or any content; a repeated row or cell with a value
    counts as many times as it is repeated (calamine expands it), an empty one does not.
    """
    boxes: dict[str, Box] = {}
    box = Box()
    row = col = 0
    row_repeat = 1
    first = last = -1  # the valued columns of the current row
    depth = 0
    for piece, peek in _pieces(archive, "content.xml"):
        for name, attrs, closes_at_once, closing in _ODS_TAG.findall(piece + peek[:2]):
            if name == b"table-cell" or name == b"covered-table-cell":
                repeat = _repeat(_COLUMNS_REPEATED, attrs) if b"repeated" in attrs else 1
                if b"value-type=" in attrs or not (closes_at_once or attrs.endswith(b"/")):
                    if first < 0:
                        first = col
                    last = col + repeat - 1
                col += repeat
            elif closing == b"table-row" or (name == b"table-row" and attrs.endswith(b"/")):
                if name:  # a self-closing row: empty
                    row_repeat = _repeat(_ROWS_REPEATED, attrs)
                if first >= 0:
                    box.add(row, first, row + row_repeat - 1, last)
                row += row_repeat
                first = last = -1
            elif name == b"table-row":
                row_repeat = _repeat(_ROWS_REPEATED, attrs)
                col = 0
                first = last = -1
            elif name == b"table":
                depth += 1
                if depth == 1:  # a table inside a cell (old StarOffice subtables) is part of its sheet
                    found = _ODS_NAME.search(attrs)
                    box = Box()
                    boxes[unescape(found.group(1).decode("utf-8", "replace")) if found else str(len(boxes) + 1)] = box
                    row = col = 0
                    first = last = -1
            elif closing == b"table":
                depth -= 1
    return boxes
