"""The parsing half of an inventory import: sniff → open → find header → stream validated chunks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from petshop.app.imports.parse.cells import cell_text
from petshop.app.imports.parse.column_map import apply_column_map, file_columns
from petshop.app.imports.parse.csv_reader import open_csv
from petshop.app.imports.parse.errors import InventoryFileError
from petshop.app.imports.parse.headers import HEADER_SEARCH_ROWS, HeaderMatch, check_required, find_header, read_header
from petshop.app.imports.parse.numbers import DecimalMark, decimal_mark_of, majority_mark
from petshop.app.imports.parse.records import InventoryRow, RowError
from petshop.app.imports.parse.sheet_guard import MAX_SHEET_CELLS, MEMORY_BUDGET
from petshop.app.imports.parse.sheet_reader import open_sheet
from petshop.app.imports.parse.sniff import sniff_file
from petshop.app.imports.parse.validate import NUMBER_FIELDS, RowValidator

DEFAULT_CHUNK_SIZE = 50_000


class RowSource(Protocol):
    """A file's rows, readable from the top as often as needed (CsvSource, SheetSource)."""

    format: str
    sheet: str | None
    encoding: str | None
    delimiter: str | None
    estimated_rows: int

    def rows(self) -> Iterator[tuple[int, list]]: ...

    def fraction_read(self, line: int) -> float: ...


def _blank(row: list) -> bool:
    return row.count("") == len(row) or all(cell_text(cell) == "" for cell in row)


@dataclass
class ParsedInventory:
    """An opened inventory file: what was detected, and its rows as a stream of validated chunks."""

    format: str  # "csv" | "xlsx" | "ods"
    sheet: str | None
    encoding: str | None  # csv only
    delimiter: str | None  # csv only
    header_line: int
    columns: dict[str, str]  # our field -> the user's header text
    unknown_columns: list[str]
    header_names: list[str]  # the keys of RowError.raw, in the file's order (for the failed-rows CSV)
    file_columns: list[str]  # the header row's labels ("" for an untitled column), capped, for a mapping form
    estimated_rows: int  # data rows to expect: exact for sheets, from the file size for CSV
    total_rows: int = 0  # non-blank data rows seen so far by chunks()
    _source: RowSource = field(default=None, repr=False)  # type: ignore[assignment]
    _header: HeaderMatch = field(default=None, repr=False)  # type: ignore[assignment]
    _line: int = field(default=0, repr=False)  # the last line handed out by chunks(); -1 once done

    @property
    def column_indexes(self) -> dict[str, int]:
        """Our field -> the 0-based index of its column in the file."""
        return dict(self._header.indexes)

    def fraction_read(self) -> float:
        """How far chunks() has got through the file, 0.0 to 1.0 (for a progress bar)."""
        if self._line <= 0:
            return 0.0 if self._line == 0 else 1.0
        return min(1.0, self._source.fraction_read(self._line))

    def chunks(
        self, size: int = DEFAULT_CHUNK_SIZE, *, first: int | None = None
    ) -> Iterator[tuple[list[InventoryRow], list[RowError]]]:
        """(valid rows, failed rows) for every `size` data rows (`first` for the first chunk), in file order.

        Each call reads the file again from the top. May raise InventoryFileError if the file
        turns out to be broken further down (a malformed CSV line).
        """
        validator = RowValidator(self._header, self._decimal_marks)
        check = validator.check
        header_line = self.header_line
        valid: list[InventoryRow] = []
        errors: list[RowError] = []
        add_valid, add_error = valid.append, errors.append
        self.total_rows = self._line = 0
        pending = 0
        yielded = False
        limit = first or size
        for line, row in self._source.rows():
            if line <= header_line or row.count("") == len(row):
                continue
            result = check(line, row)
            if result is None:
                continue
            pending += 1
            if result.__class__ is InventoryRow:
                add_valid(result)  # type: ignore[arg-type]
            else:
                add_error(result)  # type: ignore[arg-type]
            if pending >= limit:
                limit = size
                self.total_rows += pending
                pending = 0
                self._line = line
                yield valid, errors
                yielded = True
                valid, errors = [], []
                add_valid, add_error = valid.append, errors.append
        self.total_rows += pending
        self._line = -1
        if pending or not yielded:
            yield valid, errors

    def _decimal_marks(self) -> dict[str, DecimalMark]:
        """Each number column's decimal mark from all its values (see `numbers`), file-wide if none."""
        indexes = {name: self._header.indexes[name] for name in NUMBER_FIELDS if name in self._header.indexes}
        counts: dict[str, Counter[str]] = {name: Counter() for name in indexes}
        for line, row in self._source.rows():
            if line <= self.header_line:
                continue
            for name, index in indexes.items():
                if index < len(row) and row[index].__class__ is str:
                    mark = decimal_mark_of(row[index])
                    if mark:
                        counts[name][mark] += 1
        file_wide = majority_mark(sum(counts.values(), Counter()))
        return {name: majority_mark(counts.get(name, Counter())) or file_wide for name in NUMBER_FIELDS}


def _first_row(source: RowSource, after: int) -> tuple[int, list] | None:
    for line, row in source.rows():
        if line > after and not _blank(row):
            return line, row
    return None


def _first_data_line(source: RowSource, after: int) -> int | None:
    first = _first_row(source, after)
    return first[0] if first else None


def _required(header: HeaderMatch | None, source: RowSource, where: str) -> HeaderMatch:
    """check_required, with the columns a mapping could choose from in the error's details."""
    try:
        return check_required(header, searched=where)
    except InventoryFileError as exc:
        if header is None:  # what a map would be read against: the first non-empty row
            first = _first_row(source, after=0)
            header = read_header(*first) if first else None
        if exc.details is not None and header is not None:
            exc.details["file_columns"] = file_columns(header)
        raise


def open_inventory(
    path: Path, *, sheet: str | None = None, max_cells: int = MAX_SHEET_CELLS, memory_budget: int = MEMORY_BUDGET,
    column_map: dict[str, str] | None = None,
) -> ParsedInventory:
    """Sniff type by magic bytes, pick sheet, find header, map columns. Raises InventoryFileError.

    `column_map` ({field: header text or letter}) overrides detection for its fields; when no row
    looks like a header at all, the first non-empty row is taken as the header it is read against.
    """
    path = Path(path)
    fmt = sniff_file(path)
    source: RowSource = open_csv(path) if fmt == "csv" else open_sheet(
        path, fmt, sheet=sheet, max_cells=max_cells, memory_budget=memory_budget
    )
    header = find_header(source.rows())
    if header is None and _first_data_line(source, after=0) is None:
        raise InventoryFileError(
            "El archivo no tiene filas de inventario: todas sus filas están vacías.", code="no_inventory_rows"
        )
    where = f"en las primeras {HEADER_SEARCH_ROWS} filas" + (f" de la hoja «{source.sheet}»" if source.sheet else "")
    if column_map:
        if header is None:
            header = read_header(*_first_row(source, after=0))  # not None: the file has a non-empty row
        header = apply_column_map(header, column_map)
    header = _required(header, source, where)
    if _first_data_line(source, after=header.line) is None:
        raise InventoryFileError(
            f"El archivo no tiene filas de inventario: solo tiene la fila de títulos (fila {header.line}).",
            code="no_inventory_rows",
        )
    return ParsedInventory(
        format=fmt,
        sheet=source.sheet,
        encoding=source.encoding,
        delimiter=source.delimiter,
        header_line=header.line,
        columns=header.columns,
        unknown_columns=header.unknown_columns,
        header_names=header.raw_names(len(header.labels)),
        file_columns=file_columns(header),
        estimated_rows=max(0, source.estimated_rows - header.line),
        _source=source,
        _header=header,
    )
