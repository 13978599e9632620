"""Factories for the petshop tests: inventory files written into tmp_path (no database here)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import xlsxwriter
from openpyxl import Workbook

Rows = Sequence[Sequence[object]]

_ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"
_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)
_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{_ODS_MIME}"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def ods_cell(value: object) -> str:
    """One ODS cell: text, a number (float cell) or empty (None)."""
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'


def ods_row(values: Sequence[object]) -> str:
    return "<table:table-row>" + "".join(ods_cell(v) for v in values) + "</table:table-row>"


def build_ods(path: Path, sheets: dict[str, Rows | str], hidden: Sequence[str] = ()) -> Path:
    """A minimal valid ODS written by hand: `mimetype` first and stored, then manifest and content.

    A sheet is a list of rows, or a string of raw `<table:table-row>` XML (for repeats).
    """
    styles = (
        '<office:automatic-styles><style:style style:name="shown" style:family="table">'
        '<style:table-properties table:display="true"/></style:style>'
        '<style:style style:name="hidden" style:family="table"><style:table-properties table:display="false"/>'
        "</style:style></office:automatic-styles>"
    )
    tables = ""
    for name, rows in sheets.items():
        body = rows if isinstance(rows, str) else "".join(ods_row(row) for row in rows)
        style = "hidden" if name in hidden else "shown"
        tables += f'<table:table table:name="{escape(name)}" table:style-name="{style}">{body}</table:table>'
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} office:version="1.2">'
        f"{styles}<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), _ODS_MIME, compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", _ODS_MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def build_xlsx(path: Path, sheets: dict[str, Rows], hidden: Sequence[str] = (), start: str = "A1") -> Path:
    """An XLSX written by openpyxl; strings stay text cells ("00123"), numbers are numbers."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        if name in hidden:
            sheet.sheet_state = "hidden"
        first_row = int("".join(ch for ch in start if ch.isdigit()))
        first_col = ord(start[0]) - 64
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.cell(row=first_row + r, column=first_col + c, value=value)
    workbook.save(path)
    return path


def build_xlsx_from_sheet_xml(path: Path, sheet_data: str) -> Path:
    """An XLSX whose sheet XML is given by hand (for cells in unusual shapes), strings inline."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Hoja1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"<sheetData>{sheet_data}</sheetData></worksheet>"
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


def build_xlsx_with_far_value(path: Path, rows: Rows, far_cell: tuple[int, int], *, blank: bool = False) -> Path:
    """An XLSX (XlsxWriter) with a value, or only formatting (`blank`), at a far-away cell (0-based)."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Inventario")
    for r, row in enumerate(rows):
        sheet.write_row(r, 0, row)
    if blank:
        sheet.write_blank(*far_cell, None, workbook.add_format({"bg_color": "yellow"}))
    else:
        sheet.write(*far_cell, "x")
    workbook.close()
    return path


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """write_csv("a;b\\n1;2\\n", encoding="cp1252") -> the path of a new CSV file."""

    def write(text: str, *, encoding: str = "utf-8", name: str = "inventario.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return write


@pytest.fixture
def write_xlsx(tmp_path: Path) -> Callable[..., Path]:
    def write(rows: Rows | None = None, *, sheets: dict[str, Rows] | None = None, name: str = "inventario.xlsx", **kw) -> Path:
        return build_xlsx(tmp_path / name, sheets if sheets is not None else {"Inventario": rows or []}, **kw)

    return write


@pytest.fixture
def write_ods(tmp_path: Path) -> Callable[..., Path]:
    def write(rows: Rows | str | None = None, *, sheets: dict[str, Rows | str] | None = None, name: str = "inventario.ods", **kw) -> Path:
        return build_ods(tmp_path / name, sheets if sheets is not None else {"Inventario": rows or []}, **kw)

    return write
