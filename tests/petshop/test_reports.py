"""Inventory reports on the database under test: exact figures, the period bounds, and safe CSV/XLSX files."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from python_calamine import load_workbook
from sqlalchemy import text

from common.db import session_scope, utcnow
from common.errors import BadInput, NotFound
from common.spreadsheet_safety import neutralise
from petshop.app.models import Category, Product, Sale, StockItem, Store, Supplier
from petshop.app.reports import (
    MAX_PERIOD_DAYS,
    REORDER_RULE,
    Report,
    ReportType,
    build_report,
    resolve_period,
    write_csv,
    write_xlsx,
)

EVIL_NAME = '=HYPERLINK("http://evil.example/x","Oferta")'


def at(day: str, clock: str = "12:00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)


# --- tiny factories ---------------------------------------------------------------------------------


def add(session, row):
    session.add(row)
    session.flush()
    return row


def store(session, name: str) -> Store:
    return add(session, Store(name=name))


def category(session, name: str) -> Category:
    return add(session, Category(name=name, key=name.lower()))


def supplier(session, name: str) -> Supplier:
    return add(session, Supplier(name=name, key=name.lower()))


def product(session, sku: str, name: str, category: Category | None = None, supplier: Supplier | None = None
            ) -> Product:
    return add(session, Product(sku=sku, name=name, category=category, supplier=supplier))


def stock(session, store: Store, product: Product, quantity: int, min_stock: int, price: str) -> StockItem:
    return add(session, StockItem(store_id=store.id, product=product, quantity=quantity, min_stock=min_stock,
                                  price=Decimal(price)))


def sale(session, store: Store, product: Product, quantity: int, unit_price: str, sold_at: datetime) -> Sale:
    return add(session, Sale(store_id=store.id, product_id=product.id, quantity=quantity,
                             unit_price=Decimal(unit_price), sold_at=sold_at))


# --- the shop under test ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop(sessions) -> dict[str, int]:
    """Two busy stores, a store with a long sales tail, one with sales today, one empty."""
    with session_scope(sessions) as session:
        names = ("Tienda Centro", "Tienda Norte", "Tienda Sur", "Tienda Hoy", "Tienda Vacía")
        centro, norte, sur, hoy, vacia = (store(session, name) for name in names)
        food, toys = category(session, "Alimentación"), category(session, "Juguetes")
        piensos = supplier(session, "Piensos SA")
        kibble = product(session, "00123", "Pienso perro 15 kg", food, piensos)
        ball = product(session, "00456", "Pelota", toys)
        evil = product(session, "A-1", EVIL_NAME)
        litter = product(session, "B-2", "Arena gato", food)
        leash = product(session, "C-3", "Correa", toys)

        stock(session, centro, kibble, quantity=2, min_stock=10, price="39.99")
        stock(session, centro, ball, quantity=0, min_stock=0, price="4.50")
        stock(session, centro, evil, quantity=3, min_stock=5, price="0.10")
        stock(session, centro, litter, quantity=0, min_stock=3, price="12.34")
        stock(session, centro, leash, quantity=1001, min_stock=5, price="7.77")
        stock(session, norte, kibble, quantity=0, min_stock=5, price="41.00")
        stock(session, norte, leash, quantity=1, min_stock=1, price="8.00")

        sale(session, centro, kibble, 1, "39.99", at("2025-03-01", "23:59:59.999999"))  # the day before
        sale(session, centro, kibble, 2, "39.99", at("2025-03-02", "00:00:00"))
        sale(session, centro, ball, 3, "4.50", at("2025-03-02", "15:30:00"))
        sale(session, centro, kibble, 1, "35.00", at("2025-03-02", "18:00:00"))
        sale(session, centro, evil, 10, "0.10", at("2025-03-03"))
        sale(session, centro, leash, 1, "7.77", at("2025-03-04", "23:59:59.999999"))
        sale(session, centro, leash, 100, "7.77", at("2025-03-05", "00:00:00"))  # the day after
        sale(session, norte, kibble, 50, "41.00", at("2025-03-03"))

        for number in range(1, 13):  # S01 … S12, one unit each at 1.00 … 12.00
            item = product(session, f"S{number:02d}", f"Producto {number}")
            sale(session, sur, item, 1, f"{number}.00", at("2025-03-10"))
        for sku in ("S14", "S13"):  # 12.00 like S12, but in two units
            sale(session, sur, product(session, sku, f"Producto {sku}"), 2, "6.00", at("2025-03-10"))

        sale(session, hoy, ball, 1, "4.50", utcnow())
        sale(session, hoy, ball, 5, "4.50", utcnow() - timedelta(days=31))

        return {"centro": centro.id, "norte": norte.id, "sur": sur.id, "hoy": hoy.id, "vacia": vacia.id}


@pytest.fixture
def report(sessions, shop):
    def build(store: str, report_type: ReportType, **period) -> Report:
        with session_scope(sessions) as session:
            return build_report(session=session, store_id=shop[store], report_type=report_type, **period)

    return build


MARCH = {"date_from": date(2025, 3, 2), "date_to": date(2025, 3, 4)}


# --- stock_low --------------------------------------------------------------------------------------


def test_stock_low_lists_products_at_or_below_minimum_most_urgent_first(report):
    low = report("centro", ReportType.STOCK_LOW)

    assert low.title == "Productos con stock bajo — Tienda Centro"
    assert low.columns == ["SKU", "Producto", "Categoría", "Proveedor", "Existencias", "Stock mínimo", "A reponer"]
    assert low.rows == [
        ["B-2", "Arena gato", "Alimentación", "Sin proveedor", 0, 3, 6],  # out of stock, 3 missing
        ["00456", "Pelota", "Juguetes", "Sin proveedor", 0, 0, 1],  # out of stock, no minimum
        ["00123", "Pienso perro 15 kg", "Alimentación", "Piensos SA", 2, 10, 18],  # 20 % of its minimum
        ["A-1", EVIL_NAME, "Sin categoría", "Sin proveedor", 3, 5, 7],  # 60 % of its minimum
    ]
    assert low.totals == ["Total", "", "", "", "", "", 32]
    assert low.summary == {
        "report_type": "stock_low", "store_id": low.summary["store_id"], "store_name": "Tienda Centro",
        "count": 4, "out_of_stock": 2, "total_to_reorder": 32, "reorder_rule": REORDER_RULE,
    }


def test_stock_low_at_exactly_the_minimum_reorders_up_to_twice_the_minimum(report):
    low = report("norte", ReportType.STOCK_LOW)

    assert [row[0] for row in low.rows] == ["00123", "C-3"]  # the other store's figures, not Centro's
    assert [row[6] for row in low.rows] == [10, 1]  # 2×5 − 0; 2×1 − 1


# --- inventory_value --------------------------------------------------------------------------------


def test_inventory_value_is_exact_to_the_cent_per_category_and_in_total(report):
    value = report("centro", ReportType.INVENTORY_VALUE)

    assert value.title == "Valor del inventario — Tienda Centro"
    assert value.columns == ["Categoría", "Productos", "Unidades", "Valor"]
    assert value.rows == [
        ["Juguetes", 2, 1001, Decimal("7777.77")],
        ["Alimentación", 2, 2, Decimal("79.98")],
        ["Sin categoría", 1, 3, Decimal("0.30")],  # 3 × 0.10, not 0.30000000000000004
    ]
    assert all(str(row[3]) == f"{row[3]:.2f}" for row in value.rows)
    assert value.totals == ["Total", 5, 1006, Decimal("7858.05")]
    assert value.summary["total_value"] == "7858.05"
    assert value.summary["total_units"] == 1006
    assert value.summary["product_count"] == 5
    assert value.summary["categories"] == [
        {"category": "Juguetes", "products": 2, "units": 1001, "value": "7777.77"},
        {"category": "Alimentación", "products": 2, "units": 2, "value": "79.98"},
        {"category": "Sin categoría", "products": 1, "units": 3, "value": "0.30"},
    ]


def test_inventory_value_of_another_store_uses_its_own_prices(report):
    value = report("norte", ReportType.INVENTORY_VALUE)

    assert value.rows == [["Juguetes", 1, 1, Decimal("8.00")], ["Alimentación", 1, 0, Decimal("0.00")]]
    assert value.summary["total_value"] == "8.00"


# --- sales_summary ----------------------------------------------------------------------------------


def test_sales_summary_covers_both_bounds_of_the_period_and_only_this_store(report):
    sales = report("centro", ReportType.SALES_SUMMARY, **MARCH)

    assert sales.title == "Resumen de ventas — Tienda Centro, del 02/03/2025 al 04/03/2025"
    assert sales.summary["date_from"] == "2025-03-02"
    assert sales.summary["date_to"] == "2025-03-04"
    assert sales.summary["revenue"] == "137.25"
    assert sales.summary["units"] == 17
    assert sales.summary["sales_lines"] == 5


def test_sales_summary_ranks_top_products_by_revenue(report):
    sales = report("centro", ReportType.SALES_SUMMARY, **MARCH)

    assert sales.columns == ["SKU", "Producto", "Unidades", "Ingresos"]
    assert sales.rows == [
        ["00123", "Pienso perro 15 kg", 3, Decimal("114.98")],
        ["00456", "Pelota", 3, Decimal("13.50")],
        ["C-3", "Correa", 1, Decimal("7.77")],
        ["A-1", EVIL_NAME, 10, Decimal("1.00")],
    ]
    assert sales.summary["top_products"][0] == {"sku": "00123", "name": "Pienso perro 15 kg", "units": 3,
                                                "revenue": "114.98"}
    assert sales.totals == ["Total del periodo (todos los productos)", "", 17, Decimal("137.25")]


def test_sales_summary_gives_revenue_for_every_utc_day_of_the_period(sessions, shop):
    with session_scope(sessions) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET TIME ZONE 'Pacific/Auckland'"))  # days must still be UTC days
        sales = build_report(session=session, store_id=shop["centro"], report_type=ReportType.SALES_SUMMARY,
                             date_from=date(2025, 3, 1), date_to=date(2025, 3, 6))

    assert sales.summary["revenue_per_day"] == [
        {"date": "2025-03-01", "revenue": "39.99", "units": 1},
        {"date": "2025-03-02", "revenue": "128.48", "units": 6},
        {"date": "2025-03-03", "revenue": "1.00", "units": 10},
        {"date": "2025-03-04", "revenue": "7.77", "units": 1},
        {"date": "2025-03-05", "revenue": "777.00", "units": 100},
        {"date": "2025-03-06", "revenue": "0.00", "units": 0},
    ]


def test_top_products_stop_at_ten_and_break_ties_by_units_then_sku(report):
    sales = report("sur", ReportType.SALES_SUMMARY, date_from=date(2025, 3, 10), date_to=date(2025, 3, 10))

    assert [row[0] for row in sales.rows] == ["S13", "S14", "S12", "S11", "S10", "S09", "S08", "S07", "S06", "S05"]
    assert sales.summary["revenue"] == "102.00"  # 1 + 2 + … + 12 + 12 + 12, all fourteen products
    assert sales.summary["sales_lines"] == 14


def test_sales_summary_without_dates_covers_the_last_30_days(report):
    sales = report("hoy", ReportType.SALES_SUMMARY)

    today = utcnow().date()
    assert sales.summary["date_to"] == today.isoformat()
    assert sales.summary["date_from"] == (today - timedelta(days=29)).isoformat()
    assert len(sales.summary["revenue_per_day"]) == 30
    assert sales.summary["revenue"] == "4.50"  # the sale of 31 days ago is left out


def test_period_defaults_and_limits():
    today = date(2025, 6, 30)

    assert resolve_period(None, None, today=today) == (date(2025, 6, 1), today)
    assert resolve_period(date(2025, 6, 20), None, today=today) == (date(2025, 6, 20), today)
    assert resolve_period(None, date(2025, 1, 31), today=today) == (date(2025, 1, 2), date(2025, 1, 31))
    assert resolve_period(today, today, today=today) == (today, today)
    with pytest.raises(BadInput, match="posterior"):
        resolve_period(date(2025, 6, 2), date(2025, 6, 1), today=today)
    with pytest.raises(BadInput, match="más corto"):
        resolve_period(today - timedelta(days=MAX_PERIOD_DAYS), today, today=today)


@pytest.mark.parametrize("report_type", list(ReportType))
def test_summary_and_preview_are_plain_json(report, report_type):
    built = report("centro", report_type, **MARCH)

    assert json.loads(json.dumps(built.summary)) == built.summary
    preview = built.preview(limit=2)
    assert json.loads(json.dumps(preview)) == preview
    assert len(preview) == 2 and list(preview[0]) == built.columns


def test_preview_writes_money_as_text_with_two_decimals(report):
    assert report("centro", ReportType.INVENTORY_VALUE).preview(limit=1) == [
        {"Categoría": "Juguetes", "Productos": 2, "Unidades": 1001, "Valor": "7777.77"}
    ]


# --- empty and unknown stores -----------------------------------------------------------------------


@pytest.mark.parametrize("report_type", list(ReportType))
def test_a_store_without_products_or_sales_gets_an_empty_report(report, report_type, tmp_path):
    empty = report("vacia", report_type, **MARCH)

    assert empty.rows == []
    assert "Tienda Vacía" in empty.title
    write_csv(empty, io.BytesIO())
    write_xlsx(empty, tmp_path / "empty.xlsx")


def test_empty_store_totals_are_zero(report):
    assert report("vacia", ReportType.STOCK_LOW).summary["total_to_reorder"] == 0
    assert report("vacia", ReportType.INVENTORY_VALUE).summary["total_value"] == "0.00"
    sales = report("vacia", ReportType.SALES_SUMMARY, **MARCH).summary
    assert (sales["revenue"], sales["units"], sales["sales_lines"]) == ("0.00", 0, 0)
    assert [day["revenue"] for day in sales["revenue_per_day"]] == ["0.00", "0.00", "0.00"]


def test_an_unknown_store_is_not_found(sessions):
    with session_scope(sessions) as session, pytest.raises(NotFound):
        build_report(session=session, store_id=999_999, report_type=ReportType.STOCK_LOW)


# --- formula injection ------------------------------------------------------------------------------


# (cell text, what the file holds): OWASP's triggers = + - @ tab CR start a formula, unless the
# text is a plain number, which Excel and LibreOffice read as a number (`-1,5` in a Spanish locale)
FORMULA_CASES = [
    ("=1+1", "'=1+1"),
    (EVIL_NAME, "'" + EVIL_NAME),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("+34 600", "'+34 600"),  # a phone number with a space is text, and would be evaluated
    ("-1+1", "'-1+1"),
    ("+5+cmd|' /C calc'!A0", "'+5+cmd|' /C calc'!A0"),
    ("-2e3+A1", "'-2e3+A1"),
    ("--1", "'--1"),
    ("- 1", "'- 1"),
    ("-inf", "'-inf"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("\t-1", "'\t-1"),
    ("-1", "-1"),
    ("-5", "-5"),
    ("+5", "+5"),
    ("-1,5", "-1,5"),
    ("-1.5", "-1.5"),
    ("-.5", "-.5"),
    ("-1.234,56", "-1.234,56"),
    ("1e3", "1e3"),
    ("-1e3", "-1e3"),
    ("-2.5E-3", "-2.5E-3"),
    ("-5%", "-5%"),
    ("Pelota", "Pelota"),
    ("a=b", "a=b"),
    ("", ""),
    ("'ya citado", "'ya citado"),
]


@pytest.mark.parametrize(("text_value", "written"), FORMULA_CASES)
def test_only_text_a_spreadsheet_would_run_as_a_formula_gets_an_apostrophe(text_value, written):
    assert neutralise(text_value) == written


@pytest.mark.parametrize("value", [-5, Decimal("-3.50"), 0, None, date(2025, 1, 1)])
def test_values_that_are_not_text_are_left_alone(value):
    assert neutralise(value) == value


# --- CSV --------------------------------------------------------------------------------------------


def read_csv(report: Report) -> tuple[bytes, list[list[str]]]:
    buffer = io.BytesIO()
    write_csv(report, buffer)
    data = buffer.getvalue()
    return data, list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_is_utf8_with_bom_and_crlf_and_neutralises_formulas(report):
    data, lines = read_csv(report("centro", ReportType.STOCK_LOW))

    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == 6 and b"\n" not in data.replace(b"\r\n", b"")
    assert lines[0] == ["SKU", "Producto", "Categoría", "Proveedor", "Existencias", "Stock mínimo", "A reponer"]
    assert lines[3] == ["00123", "Pienso perro 15 kg", "Alimentación", "Piensos SA", "2", "10", "18"]
    assert lines[4] == ["A-1", "'" + EVIL_NAME, "Sin categoría", "Sin proveedor", "3", "5", "7"]
    assert lines[-1] == ["Total", "", "", "", "", "", "32"]


def test_csv_writes_money_with_a_point_and_two_decimals(report):
    _, lines = read_csv(report("centro", ReportType.INVENTORY_VALUE))

    assert lines[1:] == [
        ["Juguetes", "2", "1001", "7777.77"],
        ["Alimentación", "2", "2", "79.98"],
        ["Sin categoría", "1", "3", "0.30"],
        ["Total", "5", "1006", "7858.05"],
    ]


def test_csv_keeps_negative_numbers_as_numbers_but_quotes_text_that_looks_negative():
    sample = Report(ReportType.INVENTORY_VALUE, "Ajustes", {}, ["Motivo", "Importe"],
                    [["-merma", Decimal("-3.50")], ["ajuste", -2]])

    _, lines = read_csv(sample)

    assert lines[1:] == [["'-merma", "-3.50"], ["ajuste", "-2"]]


def test_csv_leaves_the_callers_stream_open(report):
    buffer = io.BytesIO()
    write_csv(report("vacia", ReportType.STOCK_LOW), buffer)

    assert not buffer.closed
    assert buffer.getvalue().decode("utf-8-sig").splitlines()[0].startswith("SKU,")


# --- XLSX -------------------------------------------------------------------------------------------


def xlsx_parts(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist() if name.endswith(".xml")}


def number_format(parts: dict[str, str], cell: str) -> str | None:
    """The number format code of one cell of the first sheet, or None for General."""
    style = re.search(rf'<c r="{cell}"(?: s="(\d+)")?', parts["xl/worksheets/sheet1.xml"]).group(1)
    styles = parts["xl/styles.xml"]
    cell_formats = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles).group(1)
    format_id = re.findall(r'<xf numFmtId="(\d+)"', cell_formats)[int(style or 0)]
    custom = dict(re.findall(r'<numFmt numFmtId="(\d+)" formatCode="([^"]*)"', styles))
    return custom.get(format_id) or {"0": None, "2": "0.00"}.get(format_id, format_id)


def is_bold(parts: dict[str, str], cell: str) -> bool:
    style = re.search(rf'<c r="{cell}"(?: s="(\d+)")?', parts["xl/worksheets/sheet1.xml"]).group(1)
    styles = parts["xl/styles.xml"]
    cell_formats = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles).group(1)
    font_id = int(re.findall(r'<xf numFmtId="\d+" fontId="(\d+)"', cell_formats)[int(style or 0)])
    fonts = re.findall(r"<font>(.*?)</font>", styles)
    return "<b/>" in fonts[font_id]


def test_xlsx_has_title_header_numbers_and_no_formulas(report, tmp_path):
    path = tmp_path / "stock_low.xlsx"
    write_xlsx(report("centro", ReportType.STOCK_LOW), path)

    workbook = load_workbook(str(path))
    assert workbook.sheet_names == ["Stock bajo"]
    cells = workbook.get_sheet_by_name("Stock bajo").to_python()
    assert cells[0][0] == "Productos con stock bajo — Tienda Centro"
    assert cells[1] == ["SKU", "Producto", "Categoría", "Proveedor", "Existencias", "Stock mínimo", "A reponer"]
    assert cells[2] == ["B-2", "Arena gato", "Alimentación", "Sin proveedor", 0, 3, 6]
    assert cells[4][0] == "00123"  # a text SKU keeps its leading zeros
    assert cells[5][1] == "'" + EVIL_NAME
    assert cells[6] == ["Total", "", "", "", "", "", 32]

    parts = xlsx_parts(path)
    sheet = parts["xl/worksheets/sheet1.xml"]
    assert "<f>" not in sheet and "<f " not in sheet
    assert '<autoFilter ref="A2:G6"/>' in sheet  # the table, not the totals row
    assert all(is_bold(parts, f"{column}2") for column in "ABCDEFG") and not is_bold(parts, "A3")
    assert 'ySplit="2"' in sheet and 'state="frozen"' in sheet


def test_xlsx_money_is_a_number_with_two_decimals_format(report, tmp_path):
    path = tmp_path / "value.xlsx"
    write_xlsx(report("centro", ReportType.INVENTORY_VALUE), path)

    cells = load_workbook(str(path)).get_sheet_by_name("Valor inventario").to_python()
    assert cells[2:] == [
        ["Juguetes", 2, 1001, 7777.77],
        ["Alimentación", 2, 2, 79.98],
        ["Sin categoría", 1, 3, 0.3],
        ["Total", 5, 1006, 7858.05],
    ]
    parts = xlsx_parts(path)
    assert number_format(parts, "D3") == "0.00"
    assert number_format(parts, "C3") is None


def test_xlsx_of_a_sales_summary_keeps_negative_numbers_numeric(tmp_path):
    sample = Report(ReportType.SALES_SUMMARY, "=Título", {}, ["SKU", "Importe", "Día"],
                    [["-1", Decimal("-3.50"), date(2025, 3, 2)]])
    path = tmp_path / "sample.xlsx"

    write_xlsx(sample, path)

    cells = load_workbook(str(path)).get_sheet_by_name("Ventas").to_python()
    assert cells[0][0] == "'=Título"
    assert cells[2][:2] == ["-1", -3.5]  # a plain number as text stays as it is
    assert cells[2][2] == date(2025, 3, 2)
    assert "<f>" not in xlsx_parts(path)["xl/worksheets/sheet1.xml"]
