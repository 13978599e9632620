"""XLSX and ODS through python-calamine: pick the sheet, measure it first, then read its rows."""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from python_calamine import (
    CalamineError,
    CalamineSheet,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from petshop.app.imports.parse.errors import InventoryFileError
from petshop.app.imports.parse.sheet_cost import (
    PER_CELL,
    PER_GRID_CELL,
    TEXT_COPIES,
    CellTooLong,
    SharedStrings,
    TooCostly,
    inflated,
    other_parts_cost,
    shared_strings,
    sheet_cost,
    sheet_stats,
)
from petshop.app.imports.parse.sheet_guard import (
    MAX_SHEET_CELLS,
    MAX_XML_BYTES,
    MEMORY_BUDGET,
    Box,
    XmlTooLarge,
    ods_sheet_boxes,
    xlsx_sheet_box,
)
from petshop.app.imports.parse.sniff import damaged_file_error
from petshop.app.imports.parse.xml_prolog import DtdDeclared, check_no_dtd, dtd_error

# what reading a damaged archive raises (RuntimeError: an encrypted or unsupported-compression member)
_ZIP_ERRORS = (
    zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ValueError, RuntimeError, ElementTree.ParseError
)


@dataclass
class SheetSource:
    """One sheet of a workbook, loaded by calamine; rows can be read again and again."""

    format: str
    sheet: str
    estimated_rows: int
    _sheet: CalamineSheet = field(repr=False)
    encoding: str | None = None
    delimiter: str | None = None

    def rows(self) -> Iterator[tuple[int, list]]:
        """(line as the user sees it, cells). calamine starts at row 1 even when the data starts
        lower, and at the first column that has data: both are what line numbers need."""
        return enumerate(self._sheet.iter_rows(), 1)

    def fraction_read(self, line: int) -> float:
        """Share of the sheet's rows up to `line`."""
        return line / max(1, self.estimated_rows)


def _password_error() -> InventoryFileError:
    return InventoryFileError(
        "El archivo está protegido con contraseña y no se puede leer. Ábrelo, quita la contraseña, "
        "guárdalo y vuelve a subirlo; o guárdalo como CSV.",
        code="spreadsheet_password",
    )


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def _too_big_error(sheet: str, box: Box, max_cells: int) -> InventoryFileError:
    return InventoryFileError(
        f"La hoja «{sheet}» tiene datos sueltos muy lejos: llega hasta la celda {box.last_cell} "
        f"({_thousands(box.cells)} celdas contando las vacías; el máximo es {_thousands(max_cells)}). "
        "Borra las filas y columnas sobrantes tras la última fila y la última columna de tu "
        "inventario (selecciónalas hasta el final y elimínalas) o guarda la hoja como CSV, "
        "y vuelve a subirla.",
        code="sheet_too_large",
    )


def _too_large_error(estimate: int | None = None, budget: int | None = None) -> InventoryFileError:
    need = ""
    if budget and estimate and estimate > budget:
        need = (f" (leerla necesitaría unos {_thousands(estimate // 1_000_000)} MB de memoria; "
                f"el máximo es {_thousands(budget // 1_000_000)} MB)")
    elif budget:
        need = f" (leerla necesitaría más de los {_thousands(budget // 1_000_000)} MB de memoria permitidos)"
    return InventoryFileError(
        f"La hoja de cálculo es demasiado grande para importarla{need}. Divide el inventario en varios "
        "archivos o guárdalo como CSV.",
        code="spreadsheet_too_large",
    )


def _cell_too_long_error() -> InventoryFileError:
    return InventoryFileError(
        "Una celda de la hoja tiene más texto del que Excel admite (32.767 caracteres). Acorta esa celda "
        "o guarda la hoja como CSV, y vuelve a subirla.",
        code="cell_too_long",
    )


def choose_sheet(names: Sequence[str], visible: Sequence[bool], wanted: str | None) -> str:
    """The sheet named `wanted` (exact, else ignoring case and spaces), or the first visible one."""
    if not names:
        raise InventoryFileError("El archivo no tiene ninguna hoja de cálculo.", code="no_sheets")
    if wanted is None:
        return next((name for name, shown in zip(names, visible) if shown), names[0])
    if wanted in names:
        return wanted
    folded = wanted.strip().casefold()
    for name in names:
        if name.strip().casefold() == folded:
            return name
    listed = ", ".join(f"«{name[:60]}»" for name in names[:20]) + (f" y {len(names) - 20} más" if len(names) > 20 else "")
    raise InventoryFileError(
        f"El archivo no tiene ninguna hoja llamada «{wanted[:60]}». Sus hojas son: {listed}.", code="sheet_not_found"
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target part) for one part of an OOXML package."""
    folder, base = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", base + ".rels")
    if rels_name not in archive.namelist():
        return {}
    relations: dict[str, tuple[str, str]] = {}
    for element in ElementTree.fromstring(archive.read(rels_name)):
        if _local(element.tag) != "Relationship" or element.get("TargetMode") == "External":
            continue
        target = element.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        relations[element.get("Id", "")] = (element.get("Type", ""), target)
    return relations


def xlsx_sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the ZIP member holding its XML, from the workbook's relationships."""
    workbook = next(
        (target for kind, target in _relationships(archive, "").values() if kind.endswith("/officeDocument")),
        "xl/workbook.xml",
    )
    relations = _relationships(archive, workbook)
    parts: dict[str, str] = {}
    for element in ElementTree.fromstring(archive.read(workbook)).iter():
        if _local(element.tag) != "sheet":
            continue
        rel_id = next((value for key, value in element.attrib.items() if _local(key) == "id" and "}" in key), "")
        if rel_id in relations:
            parts[element.get("name", "")] = relations[rel_id][1]
    return parts


def _check_declared_sizes(archive: zipfile.ZipFile) -> None:
    """A part that says it inflates past MAX_XML_BYTES (shared strings, say) is a zip bomb."""
    if any(info.file_size > MAX_XML_BYTES for info in archive.infolist()):
        raise XmlTooLarge("declared size")


def _shared_strings_part(names: set[str]) -> str | None:
    return next((name for name in sorted(names) if name.lower().endswith("sharedstrings.xml")), None)


@contextmanager
def _refusals(fmt: str, budget: int | None) -> Iterator[None]:
    """What the guards find, as the error a person reads; anything else wrong with the archive is damage."""
    try:
        yield
    except TooCostly as exc:
        raise _too_large_error(exc.estimate if budget else None, budget) from exc
    except CellTooLong as exc:
        raise _cell_too_long_error() from exc
    except XmlTooLarge as exc:
        raise _too_large_error() from exc
    except DtdDeclared as exc:
        raise dtd_error() from exc
    except _ZIP_ERRORS as exc:
        raise damaged_file_error(fmt) from exc


def _guard_xlsx_open(path: Path, budget: int) -> tuple[SharedStrings, int]:
    """Before calamine opens the file: what its shared strings and other parts will take."""
    with _refusals("xlsx", budget), zipfile.ZipFile(path) as archive:
        _check_declared_sizes(archive)
        check_no_dtd(archive)
        member = _shared_strings_part(set(archive.namelist()))
        strings = shared_strings(archive, member, budget=budget) if member else SharedStrings()
        parts = other_parts_cost(archive, skip={member} if member else set(), budget=budget - strings.cost)
    return strings, strings.cost + parts


def _guard_xlsx(path: Path, sheet: str, max_cells: int, strings: SharedStrings, opened: int, budget: int) -> None:
    """Before calamine loads the sheet: its bounding box, then what the load will take."""
    with _refusals("xlsx", budget), zipfile.ZipFile(path) as archive:
        parts = xlsx_sheet_parts(archive)
        names = set(archive.namelist())
        member = parts.get(sheet)
        # the workbook did not say where the sheet is: measure every worksheet part instead
        members = [member] if member in names else sorted(
            n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")
        )
        for member in members:
            # a sheet whose XML alone is too big is refused before the slower bounding box
            stats = sheet_stats(archive, member, limit=min(MAX_XML_BYTES, (budget - opened) // TEXT_COPIES))
            box = xlsx_sheet_box(archive, member, limit=max_cells)
            if box.cells > max_cells:
                raise _too_big_error(sheet, box, max_cells)
            cost = opened + sheet_cost(
                archive, member, stats=stats, grid_cells=box.cells, strings=strings, budget=budget - opened
            )
            if cost > budget:
                raise TooCostly(member, cost)


def _guard_ods(path: Path, max_cells: int, budget: int) -> None:
    # what a TooCostly carries here is XML bytes, not a memory estimate: say no figure
    with _refusals("ods", budget=None), zipfile.ZipFile(path) as archive:
        _check_declared_sizes(archive)
        check_no_dtd(archive)
        boxes = ods_sheet_boxes(archive)
        xml_bytes = sum(len(block) for block in inflated(archive, "content.xml", limit=MAX_XML_BYTES))
    for name, box in boxes.items():
        if box.cells > max_cells:
            raise _too_big_error(name, box, max_cells)
    if sum(box.cells for box in boxes.values()) > max_cells:
        biggest = max(boxes, key=lambda name: boxes[name].cells)
        raise _too_big_error(biggest, boxes[biggest], max_cells)
    # calamine loads every sheet of an ODS; a valued cell costs a grid slot and a cell, text its copies
    cost = sum(box.cells for box in boxes.values()) * (PER_GRID_CELL + PER_CELL) + TEXT_COPIES * xml_bytes
    if cost > budget:
        raise _too_large_error(cost, budget)


def open_sheet(
    path: Path, fmt: str, *, sheet: str | None = None, max_cells: int = MAX_SHEET_CELLS, memory_budget: int = MEMORY_BUDGET
) -> SheetSource:
    """Open the chosen sheet of an XLSX or ODS file; InventoryFileError if it cannot or must not be read.

    Nothing is handed to calamine before its memory has been estimated: an ODS whole, an XLSX's
    shared strings and other parts before it is opened and its sheet before it is loaded.
    """
    max_cells = min(max_cells, memory_budget // (2 * PER_GRID_CELL) // 100_000 * 100_000)  # the grid: half at most
    strings, opened = SharedStrings(), 0
    if fmt == "ods":
        _guard_ods(path, max_cells, memory_budget)  # calamine reads every sheet of an ODS as it opens it
    else:
        strings, opened = _guard_xlsx_open(path, memory_budget)  # calamine reads these as it opens the file
    try:
        workbook = CalamineWorkbook.from_path(path)
        worksheets = [meta for meta in workbook.sheets_metadata if meta.typ == SheetTypeEnum.WorkSheet]
        name = choose_sheet(
            [meta.name for meta in worksheets],
            [meta.visible == SheetVisibleEnum.Visible for meta in worksheets],
            sheet,
        )
        if fmt == "xlsx":
            _guard_xlsx(path, name, max_cells, strings, opened, memory_budget)  # calamine reads a sheet when asked
        loaded = workbook.get_sheet_by_name(name)
    except PasswordError as exc:
        raise _password_error() from exc
    except CalamineError as exc:
        raise damaged_file_error(fmt) from exc
    end = loaded.end
    return SheetSource(format=fmt, sheet=name, estimated_rows=end[0] + 1 if end else 0, _sheet=loaded)
