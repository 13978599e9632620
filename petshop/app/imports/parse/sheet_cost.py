"""What python-calamine will allocate for a workbook, estimated from the ZIP before calamine reads it.

calamine loads the shared strings, styles and workbook parts when it opens an XLSX, and then the
chosen sheet into a dense grid where every cell that refers to a shared string holds its own copy
of it. None of that can be interrupted, so the estimate comes first; the import then holds, per
chunk of rows, the same cells again as Python objects. The figures per string, per cell and per
byte of text were measured by bench/memory_bound.py (with some margin) and are upper bounds.
"""

from __future__ import annotations

import re
import zipfile
from array import array
from dataclasses import dataclass

#: A shared string: a Rust String in a growing Vec, plus its heap block (measured: 95–115 bytes).
PER_STRING = 120
#: A cell with a value: calamine's sparse cell while loading, and the Python object of its chunk.
PER_CELL = 110
#: A slot of calamine's dense grid, valued or not.
PER_GRID_CELL = 32
#: Each byte of a cell's text: calamine's copy, the Python str, and a spare for the validator's work.
TEXT_COPIES = 3
#: Other parts calamine reads at open (styles, workbook, relationships): cost per byte of XML.
PART_FACTOR = 3
#: Excel keeps at most 32,767 characters in a cell; as XML (entities, rich-text runs) allow 8 bytes each.
MAX_CELL_XML = 32_767 * 8
_BLOCK = 1 << 20
_SHEETS = ("xl/worksheets/", "xl/chartsheets/", "xl/dialogsheets/", "xl/macrosheets/")
_TAG = re.compile(rb"<[^>]*>")
_SHARED_CELL = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*\bt="s"[^>]*>\s*<(?:[A-Za-z_][\w.-]*:)?v>\s*([0-9]+)')


class TooCostly(Exception):
    """Reading the workbook would take more memory than allowed; `reason` says which part."""

    def __init__(self, reason: str, estimate: int):
        super().__init__(reason)
        self.reason = reason
        self.estimate = estimate


class CellTooLong(Exception):
    """A single cell holds more text than Excel itself allows."""


def inflated(archive: zipfile.ZipFile, member: str, *, limit: int):
    """The member's bytes in ~1 MiB blocks, however large it *says* it is (a ZIP's sizes can lie).

    Python stops reading at the declared size; calamine may not. Raises TooCostly past `limit`.
    """
    info = archive.getinfo(member)
    honest = zipfile.ZipInfo(info.filename, info.date_time)
    for name in ("compress_type", "compress_size", "CRC", "flag_bits", "header_offset", "extra", "_raw_time"):
        if hasattr(info, name):
            setattr(honest, name, getattr(info, name))
    honest.file_size = 1 << 62  # read to the end of the compressed data; the limit is ours
    total = 0
    with archive.open(honest) as stream:
        while block := stream.read(_BLOCK):
            total += len(block)
            if total > limit:
                raise TooCostly(member, total)
            yield block


@dataclass
class SharedStrings:
    xml_bytes: int = 0
    #: XML bytes between consecutive "si>" marks: the part before the first string, then each
    #: string's content (an upper bound of its text) and the gap after it, alternately
    pieces: array | None = None

    @property
    def count(self) -> int:
        return (len(self.pieces) - 1) // 2 if self.pieces else 0

    @property
    def cost(self) -> int:
        return self.count * PER_STRING + self.xml_bytes

    @property
    def longest(self) -> int:
        return max(self.pieces[1:], default=0) if self.pieces else 0

    def length(self, index: int) -> int:
        position = 1 + 2 * index
        return self.pieces[position] if self.pieces and position < len(self.pieces) else 0


def shared_strings(archive: zipfile.ZipFile, member: str, *, budget: int) -> SharedStrings:
    """Count the shared strings and their sizes; TooCostly as soon as they alone exceed `budget`.

    Splits on "si>", which ends both `<si>` and `</si>` (prefixed or not), at C speed.
    """
    found = SharedStrings(pieces=array("I"))
    carry = b""
    for block in inflated(archive, member, limit=budget):
        parts = (carry + block).split(b"si>")
        carry = parts.pop()
        found.xml_bytes += len(block)
        found.pieces.extend(map(len, parts))
        if found.cost > budget:
            raise TooCostly("shared strings", found.cost)
        if len(carry) > MAX_CELL_XML:
            raise CellTooLong(member)
    found.pieces.append(len(carry))
    if found.longest > MAX_CELL_XML:
        raise CellTooLong(member)
    return found


def other_parts_cost(archive: zipfile.ZipFile, *, skip: set[str], budget: int) -> int:
    """What calamine makes of the XML parts it reads at open (styles, workbook, relationships…)."""
    total = 0
    for info in archive.infolist():
        name = info.filename
        if name in skip or name.startswith(_SHEETS) or not name.endswith((".xml", ".rels")):
            continue
        for block in inflated(archive, name, limit=budget // PART_FACTOR):
            total += len(block)
        if total * PART_FACTOR > budget:
            raise TooCostly(name, total * PART_FACTOR)
    return total * PART_FACTOR


@dataclass
class SheetStats:
    xml_bytes: int = 0
    cells: int = 0  # cells written in the XML (valued or not: an upper bound of those calamine keeps)
    shared_cells: int = 0  # cells that refer to a shared string
    rows: int = 0

    @property
    def text_upper(self) -> int:
        """At most this much of the XML is text: every cell has at least `<c r="A1"/>` around it, every row `<row r="1"></row>`."""
        return max(0, self.xml_bytes - 11 * self.cells - 17 * self.rows)


def sheet_stats(archive: zipfile.ZipFile, member: str, *, limit: int) -> SheetStats:
    """One streaming pass over a sheet's XML, counting at C speed (bytes.count, bytes.split)."""
    stats = SheetStats()
    carry = b""
    for block in inflated(archive, member, limit=limit):
        data = carry + block
        cut = data.rfind(b"<")
        piece, carry = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
        stats.xml_bytes += len(block)
        stats.cells += piece.count(b"<c ") + piece.count(b":c ")
        stats.shared_cells += piece.count(b't="s"')
        stats.rows += piece.count(b"<row ") + piece.count(b":row ")
        if _has_long_run(piece, MAX_CELL_XML) or len(carry) > MAX_CELL_XML:
            raise CellTooLong(member)
    return stats


def _has_long_run(piece: bytes, longest: int) -> bool:
    """Whether `piece` has a run of more than `longest` bytes without a "<" (a cell longer than Excel allows).

    Such a run covers a whole window of half its length, so one `find` per window decides: a few
    calls per MiB instead of looking at every tag.
    """
    half = longest // 2
    for start in range(0, len(piece) - half + 1, half):
        if piece.find(b"<", start, start + half) < 0:
            before = piece.rfind(b"<", 0, start)
            after = piece.find(b"<", start + half)
            if (after if after >= 0 else len(piece)) - before - 1 > longest:
                return True
    return False


def shared_text_referenced(archive: zipfile.ZipFile, member: str, strings: SharedStrings, *, limit: int) -> int:
    """The exact bytes of shared strings the sheet's cells refer to (each reference is a copy)."""
    total = 0
    carry = b""
    for block in inflated(archive, member, limit=limit):
        data = carry + block
        cut = max(data.rfind(b"<c "), data.rfind(b":c "))
        piece, carry = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
        total += sum(map(strings.length, map(int, _SHARED_CELL.findall(piece))))
    return total + sum(map(strings.length, map(int, _SHARED_CELL.findall(carry))))


def text_bytes(archive: zipfile.ZipFile, member: str, *, limit: int) -> int:
    """The bytes of text in a sheet's XML, tags left out (inline strings, numbers, formulas)."""
    total = 0
    carry = b""
    for block in inflated(archive, member, limit=limit):
        data = carry + block
        cut = data.rfind(b"<")
        piece, carry = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
        total += len(_TAG.sub(b"", piece))
    return total + len(_TAG.sub(b"", carry))


def sheet_cost(
    archive: zipfile.ZipFile, member: str, *, stats: SheetStats, grid_cells: int, strings: SharedStrings, budget: int
) -> int:
    """The bytes loading this sheet will take, on top of what opening the workbook took.

    Cheap bounds first (the XML less its least markup taken for text, every shared cell for the longest string);
    the exact sums, one more pass each, only when a cheap bound is over the budget.
    """
    cells = grid_cells * PER_GRID_CELL + stats.cells * PER_CELL
    text = stats.text_upper
    copies = stats.shared_cells * strings.longest
    if cells + TEXT_COPIES * (text + copies) > budget:
        text = text_bytes(archive, member, limit=stats.xml_bytes)
    if cells + TEXT_COPIES * (text + copies) > budget:
        copies = shared_text_referenced(archive, member, strings, limit=stats.xml_bytes)
    return cells + TEXT_COPIES * (text + copies)
