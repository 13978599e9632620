"""A report's table as a CSV or XLSX file, with every text cell guarded against formula injection.

Both files hold the same table: the header, the rows, then the closing totals row if the report has
one. The XLSX adds the title above the header. Text that a spreadsheet would read as a formula
gets a leading apostrophe in both files (`common.spreadsheet_safety.neutralise`), so the two show the same text. In the XLSX every
text cell is written as a string, which is never evaluated; the apostrophe is kept there too so that
editing the cell and pressing Enter does not turn it into a live formula. Numeric cells, and text
that is a plain number (`-1`, `+5`, `-1,5`, `-2.5e3`: Excel and LibreOffice read it as a number,
and it can call nothing), are never touched.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, NamedTuple

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from common.spreadsheet_safety import neutralise
from petshop.app.reports.build import Report, ReportType

SHEET_NAMES = {
    ReportType.STOCK_LOW: "Stock bajo",
    ReportType.INVENTORY_VALUE: "Valor inventario",
    ReportType.SALES_SUMMARY: "Ventas",
}
MONEY_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"
MAX_COLUMN_WIDTH = 60
WIDTH_SAMPLE_ROWS = 1000


def write_csv(report: Report, stream: IO[bytes]) -> None:
    """The table as CSV: UTF-8 with BOM, `,` between cells, CRLF line ends, money as `12.50`.

    No title line, so the file opens straight into a table. `stream` is left open.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow([_csv_cell(name) for name in report.columns])
        writer.writerows([_csv_cell(value) for value in row] for row in _table_rows(report))
        text.flush()
    finally:
        text.detach()


def write_xlsx(report: Report, path: Path) -> None:
    """The table as XLSX: a title row, a bold frozen header with an autofilter, numbers as numbers."""
    options = {
        "constant_memory": True,  # rows go to disk as they are written
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
        "remove_timezone": True,
    }
    with xlsxwriter.Workbook(str(path), options) as workbook:
        sheet = workbook.add_worksheet(SHEET_NAMES[report.report_type])
        title = workbook.add_format({"bold": True, "font_size": 14})
        header = workbook.add_format({"bold": True, "bottom": 1})
        body = CellFormats(
            plain=None,
            money=workbook.add_format({"num_format": MONEY_FORMAT}),
            date=workbook.add_format({"num_format": DATE_FORMAT}),
        )
        totals = CellFormats(
            plain=workbook.add_format({"bold": True, "top": 1}),
            money=workbook.add_format({"bold": True, "top": 1, "num_format": MONEY_FORMAT}),
            date=workbook.add_format({"bold": True, "top": 1, "num_format": DATE_FORMAT}),
        )
        for column, width in enumerate(_column_widths(report)):
            sheet.set_column(column, column, width)

        sheet.write_string(0, 0, neutralise(report.title), title)
        for column, name in enumerate(report.columns):
            sheet.write_string(1, column, neutralise(name), header)
        last_row = 1
        for last_row, row in enumerate(report.rows, start=2):
            for column, value in enumerate(row):
                _write_cell(sheet, last_row, column, value, body)
        if report.totals is not None:
            # below the autofilter range, so sorting the table leaves the totals at the bottom
            for column, value in enumerate(report.totals):
                _write_cell(sheet, last_row + 1, column, value, totals)
        sheet.autofilter(1, 0, last_row, len(report.columns) - 1)
        sheet.freeze_panes(2, 0)


class CellFormats(NamedTuple):
    plain: Format | None  # text, and numbers that are not money
    money: Format
    date: Format


def _table_rows(report: Report) -> list[list[Any]]:
    return report.rows + ([report.totals] if report.totals is not None else [])


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


def _write_cell(sheet: Worksheet, row: int, column: int, value: Any, formats: CellFormats) -> None:
    """One cell by its Python type: text always as a string (never a formula), numbers as numbers."""
    if value is None or value == "":
        if formats.plain is not None:
            sheet.write_blank(row, column, None, formats.plain)
    elif isinstance(value, str):
        sheet.write_string(row, column, neutralise(value), formats.plain)
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value, formats.plain)
    elif isinstance(value, Decimal):
        sheet.write_number(row, column, float(value), formats.money)
    elif isinstance(value, int | float):
        sheet.write_number(row, column, value, formats.plain)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, column, value, formats.date)
    elif isinstance(value, date):
        sheet.write_datetime(row, column, datetime.combine(value, time.min), formats.date)
    else:
        sheet.write_string(row, column, neutralise(str(value)), formats.plain)


def _column_widths(report: Report) -> list[float]:
    """Widths from the header and the first rows (enough to look right without measuring every row)."""
    widths = [len(name) for name in report.columns]
    for row in _table_rows(report)[:WIDTH_SAMPLE_ROWS]:
        for column, value in enumerate(row):
            widths[column] = max(widths[column], len(str(_csv_cell(value))))
    return [min(width + 2, MAX_COLUMN_WIDTH) for width in widths]
