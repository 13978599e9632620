"""The parsing half of the inventory import: messy supplier files in, validated rows out.

Every fixture file is generated here (tests/petshop/conftest.py has the factories).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from petshop.app.imports.parse import (
    InventoryFileError,
    InventoryRow,
    ParsedInventory,
    RowError,
    open_inventory,
    sniff_format,
)
from petshop.app.imports.parse.headers import normalize_header
from petshop.app.imports.parse.numbers import AMBIGUOUS, decimal_mark_of, parse_decimal
from petshop.app.imports.parse.sheet_guard import ods_sheet_boxes, xlsx_sheet_box
from tests.petshop.conftest import build_xlsx_from_sheet_xml, build_xlsx_with_far_value, ods_cell

HEADER = ["SKU", "Nombre", "Stock", "Precio"]
REPO = Path(__file__).resolve().parents[2]


def parse(path: Path, **kwargs) -> tuple[ParsedInventory, list[InventoryRow], list[RowError]]:
    """open_inventory + every chunk, the way the import task consumes it."""
    parsed = open_inventory(path, **kwargs)
    rows: list[InventoryRow] = []
    errors: list[RowError] = []
    for chunk_rows, chunk_errors in parsed.chunks():
        rows += chunk_rows
        errors += chunk_errors
    return parsed, rows, errors


def file_error(path: Path, **kwargs) -> str:
    with pytest.raises(InventoryFileError) as caught:
        open_inventory(path, **kwargs)
    return caught.value.message


def row(line, sku, name, stock, price, min_stock=None, category=None, supplier=None) -> InventoryRow:
    return InventoryRow(line, sku, name, stock, None if price is None else Decimal(price), min_stock, category, supplier)


# -- sniffing: the type comes from the bytes, never from the name ---------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"SKU;Nombre\n1;a\n", "csv"),
        (b"\xef\xbb\xbfSKU;Nombre\n", "csv"),
        ("SKU\tNombre\n".encode("utf-16"), "csv"),
        ("SKU,Nombre\n".encode("utf-16-le"), "csv"),
        (b"PK\x03\x04" + b"\x00" * 22 + b"\x13\x00\x00\x00[Content_Types].xml", "xlsx"),
        (b"PK\x03\x04" + b"\x00" * 22 + b"\x08\x00\x00\x00mimetypeapplication/vnd.oasis.opendocument.spreadsheet", "ods"),
    ],
)
def test_sniff_format_recognises_spreadsheets_and_text(head, expected):
    assert sniff_format(head) == expected


@pytest.mark.parametrize(
    ("head", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "una imagen PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "una imagen JPEG"),
        (b"%PDF-1.7\n", "un PDF"),
        (b"PK\x03\x04" + b"\x00" * 22 + b"\x09\x00\x00\x00photo.jpg", "un archivo ZIP con otros archivos dentro"),
        (b"PK\x03\x04" + b"\x00" * 22 + b"\x11\x00\x00\x00word/document.xml", "un documento de Word (.docx)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "Workbook".encode("utf-16-le"), "Excel antiguo (.xls)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "EncryptionInfo".encode("utf-16-le"), "protegido con contraseña"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + b"EncryptionInfo", "protegido con contraseña"),
        (b"<html><body><table>", "una página web (HTML)"),
        (b"", "El archivo no tiene filas de inventario"),
    ],
)
def test_sniff_format_refuses_other_files_with_a_clear_message(head, words):
    with pytest.raises(InventoryFileError) as caught:
        sniff_format(head)
    assert words in caught.value.message


def test_a_png_renamed_xlsx_is_refused(tmp_path):
    path = tmp_path / "inventario.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)
    assert file_error(path) == (
        "El archivo es una imagen PNG, no una hoja de cálculo. "
        "Sube el inventario como CSV, Excel (.xlsx) u OpenDocument (.ods)."
    )


def test_a_truncated_xlsx_is_reported_as_damaged(write_xlsx):
    path = write_xlsx([HEADER, ["001", "Pienso", 3, 9.99]] * 50)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert file_error(path).startswith("El archivo Excel (.xlsx) está dañado o incompleto")


def test_a_password_protected_workbook_is_reported_even_when_the_marker_is_far_in(tmp_path):
    # Excel saves an encrypted .xlsx as an OLE2 container whose directory names its streams
    # (UTF-16LE) EncryptionInfo and EncryptedPackage; the directory may sit far from the start.
    path = tmp_path / "inventario.xlsx"
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    directory = "Root Entry".encode("utf-16-le").ljust(128, b"\x00") + "EncryptionInfo".encode(
        "utf-16-le"
    ).ljust(128, b"\x00") + "EncryptedPackage".encode("utf-16-le").ljust(128, b"\x00")
    path.write_bytes(header + b"\x00" * 200_000 + directory)
    assert file_error(path).startswith("El archivo está protegido con contraseña")


def test_an_empty_file_has_no_inventory_rows(write_csv):
    assert file_error(write_csv("")) == "El archivo no tiene filas de inventario: está vacío (0 bytes)."
    assert file_error(write_csv("\n\n  \n;;;\n")) == (
        "El archivo no tiene filas de inventario: todas sus filas están vacías."
    )
    assert file_error(write_csv("\nInventario\n\nSKU;Nombre;Stock;Precio\n\n\n")) == (
        "El archivo no tiene filas de inventario: solo tiene la fila de títulos (fila 4)."
    )


# -- CSV: delimiters and encodings ----------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_each_delimiter_is_detected(write_csv, delimiter):
    lines = [HEADER, ["00123", "Pienso gato", "7", "12.50"], ["124", "Arena", "0", "3"]]
    parsed, rows, errors = parse(write_csv("\n".join(delimiter.join(cells) for cells in lines) + "\n"))
    assert parsed.delimiter == delimiter
    assert rows == [row(2, "00123", "Pienso gato", 7, "12.50"), row(3, "124", "Arena", 0, "3.00")]
    assert errors == []


def test_semicolon_file_with_unquoted_decimal_commas_is_not_taken_for_commas(write_csv):
    text = "Código;Nombre;Stock;Precio\n001;Pienso;3;12,50\n002;Arena;4;1,25\n003;Collar;5;7,10\n"
    parsed, rows, _ = parse(write_csv(text))
    assert parsed.delimiter == ";"
    assert [r.price for r in rows] == [Decimal("12.50"), Decimal("1.25"), Decimal("7.10")]


def test_comma_file_with_quoted_decimal_commas(write_csv):
    text = 'SKU,Nombre,Stock,Precio\n001,"Pienso, 2 kg",3,"12,50"\n002,Arena,4,"1.234,56"\n'
    parsed, rows, _ = parse(write_csv(text))
    assert parsed.delimiter == ","
    assert rows == [row(2, "001", "Pienso, 2 kg", 3, "12.50"), row(3, "002", "Arena", 4, "1234.56")]


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252"), ("utf-16", "utf-16"), ("utf-16-le", "utf-16-le")],
)
def test_each_encoding_is_decoded(write_csv, encoding, reported):
    text = "Código;Nombre;Stock;Precio;Categoría\n0001;Pienso para cachorros ñandú;3;4,50;Alimentación\n"
    parsed, rows, _ = parse(write_csv(text, encoding=encoding))
    assert parsed.encoding == reported
    assert parsed.columns == {"sku": "Código", "name": "Nombre", "stock": "Stock", "price": "Precio", "category": "Categoría"}
    assert rows == [row(2, "0001", "Pienso para cachorros ñandú", 3, "4.50", category="Alimentación")]


def test_cp1252_is_detected_even_when_the_first_accent_is_far_down(write_csv):
    lines = ["SKU;Nombre;Stock;Precio"] + [f"{i};Producto {i};1;2" for i in range(1, 5000)] + ["5000;Piñata;1;2"]
    parsed, rows, _ = parse(write_csv("\n".join(lines) + "\n", encoding="cp1252"))
    assert parsed.encoding == "cp1252"
    assert rows[-1] == row(5001, "5000", "Piñata", 1, "2.00")


def test_an_unclosed_quote_that_swallows_the_file_is_a_file_error(write_csv):
    good = "".join(f"{i};p;1;2\n" for i in range(1, 50))
    parsed = open_inventory(write_csv("SKU;Nombre;Stock;Precio\n" + good + '50;"b;1;2\n' + "51;c;1;2\n" * 20_000))
    with pytest.raises(InventoryFileError) as caught:
        list(parsed.chunks())  # found while streaming, past what open_inventory looked at
    assert caught.value.message.startswith("El CSV está mal formado en la fila 51: una celda es demasiado larga.")


def test_excel_sep_line_names_the_delimiter_and_is_not_a_row(write_csv):
    parsed, rows, _ = parse(write_csv("sep=,\nSKU,Nombre,Stock,Precio\n001,a,1,2\n"))
    assert (parsed.delimiter, parsed.header_line) == (",", 1)
    assert rows == [row(2, "001", "a", 1, "2.00")]


# -- messy layouts and headers --------------------------------------------------------------------


def test_title_and_blank_rows_above_the_header_keep_line_numbers_as_the_user_sees_them(write_csv):
    text = "Inventario Tienda Centro;;;\nExportado el 3/3/2025;;;\n;;;\n\nsku;NOMBRE;stock;PRECIO\n001;Pienso;2;3\n\n002;Arena;1;4\n"
    parsed, rows, _ = parse(write_csv(text))
    assert parsed.header_line == 5
    assert [r.line for r in rows] == [6, 8]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["CÓDIGO", "descripcion", "Existencias", "P.V.P.", "FAMILIA", "proveedor", "Stock Mín."],
         ["sku", "name", "stock", "price", "category", "supplier", "min_stock"]),
        (["Product code", "Product", "Qty", "Price (€)", "Category", "Vendor", "Reorder level"],
         ["sku", "name", "stock", "price", "category", "supplier", "min_stock"]),
        (["Ref.", "Producto", "Unidades", "Precio venta", "Categoria", "Supplier", "Minimo"],
         ["sku", "name", "stock", "price", "category", "supplier", "min_stock"]),
        (["Cod.", "Name", "Cantidad", "PVP", "Category", "Proveedor", "Min stock"],
         ["sku", "name", "stock", "price", "category", "supplier", "min_stock"]),
    ],
)
def test_spanish_english_accented_and_mixed_case_headers_map_to_fields(write_csv, headers, expected):
    text = ";".join(headers) + "\n001;Pienso;5;3,50;Perros;Acme;2\n"
    parsed, rows, errors = parse(write_csv(text))
    assert parsed.columns == dict(zip(expected, headers))
    assert rows == [row(2, "001", "Pienso", 5, "3.50", 2, "Perros", "Acme")]
    assert errors == []


def test_normalize_header_drops_accents_case_punctuation_and_currency():
    assert normalize_header("  Stock Mín. (uds) ") == "stock min"
    assert normalize_header("Precio €") == "precio"
    assert normalize_header("CATEGORÍA") == "categoria"


def test_a_cost_price_column_is_not_taken_for_the_price(write_csv):
    message = file_error(write_csv("SKU;Nombre;Stock;Precio compra\n1;a;1;2\n"))
    assert message == (
        "Falta la columna «Precio» (también vale: price, PVP). "
        "La fila de títulos (fila 1) tiene: «SKU», «Nombre», «Stock» y «Precio compra»."
    )


def test_missing_required_columns_are_named_in_the_users_language(write_csv):
    assert file_error(write_csv("Code,Name,Qty\n1,a,1\n")) == (
        "Falta la columna «Price» (también vale: Precio, PVP). "
        "La fila de títulos (fila 1) tiene: «Code», «Name» y «Qty»."
    )
    assert file_error(write_csv("Código;Nombre\n1;a\n")) == (
        "Faltan las columnas «Stock» (también vale: Cantidad, Existencias, qty) y «Precio» (también vale: price, PVP). "
        "La fila de títulos (fila 1) tiene: «Código» y «Nombre»."
    )


def test_a_file_without_any_header_says_which_columns_it_needs(write_csv):
    assert file_error(write_csv("a;b;c\n1;2;3\n")) == (
        "No encuentro la fila de títulos de columna en las primeras 30 filas. "
        "El inventario necesita las columnas «SKU», «Nombre», «Stock» y «Precio»."
    )


def test_unknown_columns_are_ignored_and_reported(write_csv):
    parsed, rows, _ = parse(write_csv("SKU;Color;Nombre;Stock;Precio;Notas internas;Precio\n1;rojo;a;1;2;x;9\n"))
    assert parsed.unknown_columns == ["Color", "Notas internas", "Precio"]
    assert rows == [row(2, "1", "a", 1, "2.00")]


def test_trailing_empty_rows_and_columns_are_ignored(write_csv):
    text = "SKU;Nombre;Stock;Precio;;;\n001;a;1;2;;;\n002;b;3;4\n;;;;;;\n\n   ;  ;;\n;;;;;;\n"
    parsed, rows, errors = parse(write_csv(text))
    assert [r.sku for r in rows] == ["001", "002"]
    assert (errors, parsed.total_rows) == ([], 2)


def test_a_million_empty_lines_are_not_counted(write_csv):
    # how fast: bench/parse_edge_cases.py
    path = write_csv("SKU,Nombre,Stock,Precio\n001,a,1,2\n" + "\n" * 1_000_000 + ",,,\n" * 100_000)
    parsed, rows, errors = parse(path)
    assert (len(rows), errors, parsed.total_rows) == (1, [], 1)


# -- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", "12"), ("12,5", "12.5"), ("12.50", "12.50"), ("1.234,56", "1234.56"), ("1,234.56", "1234.56"),
        ("1 234,56", "1234.56"), ("1\u00a0234,56", "1234.56"), ("1.234.567", "1234567"), ("1,234,567.8", "1234567.8"),
        ("12,50 €", "12.50"), ("€12.50", "12.50"), ("$ 3.99", "3.99"), ("EUR 1.234,56", "1234.56"), ("7,5 EUR", "7.5"),
        ("-3", "-3"), ("3-", "-3"), ("(4,50)", "-4.50"), ("0,125", "0.125"), (",5", "0.5"), ("1234.567", "1234.567"),
    ],
)
def test_parse_decimal_reads_the_usual_notations(text, expected):
    assert parse_decimal(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["abc", "", "12.34.5", "1,2,3", "1e5", "NaN", "12 kg", "1.234,5,6", "--3"])
def test_parse_decimal_refuses_what_is_not_a_number(text):
    assert parse_decimal(text) is None


def test_a_lone_separator_before_three_digits_follows_the_decimal_mark():
    assert parse_decimal("1.234", None) is AMBIGUOUS
    assert parse_decimal("1.234", ",") == Decimal("1234")
    assert parse_decimal("1.234", ".") == Decimal("1.234")
    assert parse_decimal("1,234", ",") == Decimal("1.234")
    assert parse_decimal("1,234", "") == Decimal("1234")  # no evidence anywhere: a thousands group
    assert [decimal_mark_of(t) for t in ("2,50", "1.234,5", "1.234.567", "3.5", "1.234", "7")] == [",", ",", ",", ".", None, None]


def test_ambiguous_values_take_the_decimal_mark_their_column_uses_anywhere(write_csv):
    text = "SKU;Nombre;Stock;Precio\n1;a;1.234;1.234\n2;b;5;2,50\n3;c;2;1.500,25\n"
    _, rows, _ = parse(write_csv(text))
    # price shows "," as its decimal mark (2,50) so "1.234" is 1234; stock has no evidence of its
    # own and takes the file's
    assert [(r.stock, r.price) for r in rows] == [(1234, Decimal("1234.00")), (5, Decimal("2.50")), (2, Decimal("1500.25"))]


def test_ambiguous_values_in_a_dot_decimal_column(write_csv):
    text = "SKU,Nombre,Stock,Precio\n1,a,1,\"1,234\"\n2,b,5,2.50\n3,c,2,1.234\n"
    _, rows, _ = parse(write_csv(text))
    assert [r.price for r in rows] == [Decimal("1234.00"), Decimal("2.50"), Decimal("1.23")]


def test_stock_must_be_a_whole_number_and_price_positive(write_csv):
    text = (
        "SKU;Nombre;Stock;Precio;Stock mínimo\n"
        "001;a;12,0;3;1\n"
        "002;b;12,5;3;\n"
        "003;c;-4;3;\n"
        "004;d;1;abc;\n"
        "005;e;1;0;\n"
        "006;f;1;-2,5;\n"
        "007;g;1;0,001;\n"
        "008;h;1;2;x\n"
        "009;i;;;\n"
    )
    _, rows, errors = parse(write_csv(text))
    assert rows == [row(2, "001", "a", 12, "3.00", 1), row(10, "009", "i", None, None)]
    assert [(e.line, e.sku, e.column, e.message) for e in errors] == [
        (3, "002", "Stock", "El stock «12,5» no es un número entero"),
        (4, "003", "Stock", "El stock no puede ser negativo: «-4»"),
        (5, "004", "Precio", "El precio «abc» no es un número"),
        (6, "005", "Precio", "El precio debe ser mayor que cero: «0»"),
        (7, "006", "Precio", "El precio debe ser mayor que cero: «-2,5»"),
        (8, "007", "Precio", "El precio debe ser mayor que cero: «0,001»"),
        (9, "008", "Stock mínimo", "El stock mínimo «x» no es un número"),
    ]


# -- per-row validation ---------------------------------------------------------------------------


def test_row_errors_carry_line_sku_column_message_and_the_raw_cells(write_csv):
    text = "Listado;;;;\n\nCódigo;Nombre;Stock;Precio;Color\n001;Pienso;3;2,5;rojo\n;Sin código;1;1;azul\n002;Collar;-1;x;verde\n003;Arena;4;1;\n"
    parsed, rows, errors = parse(write_csv(text))
    assert [r.line for r in rows] == [4, 7]
    assert errors == [
        RowError(5, None, "Código", "Falta el SKU (la celda de «Código» está vacía)",
                 {"Código": "", "Nombre": "Sin código", "Stock": "1", "Precio": "1", "Color": "azul"}),
        RowError(6, "002", "Stock", "El stock no puede ser negativo: «-1»; El precio «x» no es un número",
                 {"Código": "002", "Nombre": "Collar", "Stock": "-1", "Precio": "x", "Color": "verde"}),
    ]
    assert parsed.header_names == ["Código", "Nombre", "Stock", "Precio", "Color"]
    assert parsed.total_rows == 4


def test_a_sku_twice_fails_the_second_occurrence_naming_the_first(write_csv):
    text = "SKU;Nombre;Stock;Precio\n00123;a;1;2\n123;b;1;2\n00123;c;5;6\n"
    _, rows, errors = parse(write_csv(text))
    assert [r.sku for r in rows] == ["00123", "123"]  # leading zeros make a different SKU
    assert [(e.line, e.sku, e.column, e.message) for e in errors] == [
        (4, "00123", "SKU", "El SKU «00123» está repetido: ya aparece en la fila 2")
    ]


def test_leading_zeros_survive_csv_including_excels_formula_trick(write_csv):
    _, rows, _ = parse(write_csv('SKU,Nombre,Stock,Precio\n00123,a,1,2\n="000456",b,1,2\n'))
    assert [r.sku for r in rows] == ["00123", "000456"]


def test_chunks_yield_every_row_across_chunk_boundaries(write_csv):
    lines = ["SKU;Nombre;Stock;Precio"] + [f"{i:03d};p{i};{i};1" for i in range(1, 8)]
    lines[4] = "004;p4;-1;1"  # an error in the middle of the second chunk
    parsed = open_inventory(write_csv("\n".join(lines) + "\n"))
    chunks = list(parsed.chunks(size=3))
    assert [([r.line for r in rows], [e.line for e in errors]) for rows, errors in chunks] == [
        ([2, 3, 4], []),
        ([6, 7], [5]),
        ([8], []),
    ]
    assert parsed.total_rows == 7
    assert list(parsed.chunks(size=3))[0][0][0].sku == "001"  # a second pass starts over


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_fraction_read_moves_from_zero_to_one(write_csv, write_xlsx, kind):
    data = [HEADER] + [[f"{i:05d}", f"producto {i}", "1", "2,5"] for i in range(1, 3001)]
    path = write_csv("\n".join(";".join(r) for r in data) + "\n") if kind == "csv" else write_xlsx(data)
    parsed = open_inventory(path)
    assert parsed.fraction_read() == 0.0
    seen = [parsed.fraction_read() for _ in parsed.chunks(size=1000)]
    assert seen[0] < seen[1] < seen[2] <= 1.0
    assert 0.25 < seen[0] < 0.45
    assert parsed.fraction_read() == 1.0
    assert parsed.estimated_rows == pytest.approx(3000, rel=0.05)


# -- XLSX -----------------------------------------------------------------------------------------


def test_xlsx_with_title_rows_text_numbers_and_excel_numbers(write_xlsx):
    path = write_xlsx(
        [
            ["Inventario de marzo"],
            [],
            ["Código", "Descripción", "Existencias", "PVP", "Categoría", "Proveedor", "Stock mínimo"],
            ["00123", "Pienso", 12.0, 12.3, "Perros", "Acme", 2],
            [456, "Arena", "7", "1.234,56 €", None, None, None],
            [789.0, "Hueso", 3, 0.1 + 0.2, None, None, None],
            [],
            [None, None, None, None],
        ],
        start="B1",
    )
    parsed, rows, errors = parse(path)
    assert (parsed.format, parsed.sheet, parsed.header_line) == ("xlsx", "Inventario", 3)
    assert rows == [
        row(4, "00123", "Pienso", 12, "12.30", 2, "Perros", "Acme"),
        row(5, "456", "Arena", 7, "1234.56"),
        row(6, "789", "Hueso", 3, "0.30"),
    ]
    assert str(rows[0].price) == "12.30"
    assert errors == []


def test_xlsx_text_cells_with_ambiguous_numbers_follow_their_column(write_xlsx):
    path = write_xlsx([HEADER, ["1", "a", 1, "1.234"], ["2", "b", 1, "2,50"], ["3", "c", 1, 4.5]])
    _, rows, _ = parse(path)
    assert [r.price for r in rows] == [Decimal("1234.00"), Decimal("2.50"), Decimal("4.50")]


def test_xlsx_reports_errors_with_the_spreadsheet_row_number(write_xlsx):
    path = write_xlsx([[], ["SKU", "Nombre", "Stock", "Precio"], ["A1", "x", -2, 5], ["A1", "y", 1, "gratis"]])
    _, rows, errors = parse(path)
    assert rows == []
    assert [(e.line, e.sku, e.message) for e in errors] == [
        (3, "A1", "El stock no puede ser negativo: «-2»"),
        (4, "A1", "El SKU «A1» está repetido: ya aparece en la fila 3; El precio «gratis» no es un número"),
    ]


def test_the_first_visible_sheet_is_read_unless_one_is_named(write_xlsx):
    data = [HEADER, ["1", "a", 1, 2]]
    path = write_xlsx(sheets={"Oculta": [["nada"]], "Stock": data, "Otra": [HEADER, ["2", "b", 1, 2]]}, hidden=["Oculta"])
    assert open_inventory(path).sheet == "Stock"
    assert open_inventory(path, sheet="otra ").sheet == "Otra"
    assert file_error(path, sheet="Precios") == (
        "El archivo no tiene ninguna hoja llamada «Precios». Sus hojas son: «Oculta», «Stock», «Otra»."
    )


def test_formatting_far_away_is_harmless(tmp_path):
    path = build_xlsx_with_far_value(tmp_path / "f.xlsx", [HEADER, ["001", "a", 1, 2]], (1048575, 16383), blank=True)
    _, rows, _ = parse(path)
    assert rows == [row(2, "001", "a", 1, "2.00")]


def _open_in_subprocess(path: Path) -> subprocess.CompletedProcess:
    """open_inventory in a child process: if the guard fails, calamine aborts the child, not pytest."""
    code = textwrap.dedent(
        f"""
        from petshop.app.imports.parse import InventoryFileError, open_inventory
        try:
            parsed = open_inventory({str(path)!r})
            print("OPENED", sum(len(rows) for rows, _ in parsed.chunks()))
        except InventoryFileError as exc:
            print("REFUSED", exc.message)
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_a_value_at_xfd1048576_is_refused_instead_of_killing_the_process(tmp_path):
    path = build_xlsx_with_far_value(tmp_path / "far.xlsx", [HEADER, ["001", "a", 1, 2]], (1048575, 16383))
    result = _open_in_subprocess(path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == (
        "REFUSED La hoja «Inventario» tiene datos sueltos muy lejos: llega hasta la celda XFD1048576 "
        "(17.179.869.184 celdas contando las vacías; el máximo es 3.900.000). Borra las filas y columnas "
        "sobrantes tras la última fila y la última columna de tu inventario (selecciónalas hasta el final "
        "y elimínalas) o guarda la hoja como CSV, y vuelve a subirla.\n"
    )


@pytest.mark.parametrize(
    "far_cell",
    [
        '<row r="3"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',  # cell ref beyond its row's
        '<row r="1048576"><c s="0" r="XFD1048576"><v>1</v></c></row>',  # `r` not first
        '<row r="1048576"><x:c r="XFD1048576"><x:v>1</x:v></x:c></row>',  # prefixed element
        '<row r="1048576">' + "<c><v>1</v></c>" * 16384 + "</row>",  # cells without `r`, one after another
        "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>' + "x" * 30_000 + "</t></is></c></row>" for n in range(3, 43))
        + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',  # after texts longer than a read block
    ],
)
def test_unusual_cell_shapes_cannot_sneak_past_the_guard(tmp_path, far_cell):
    header = '<row r="1">' + "".join(
        f'<c r="{col}1" t="inlineStr"><is><t>{name}</t></is></c>' for col, name in zip("ABCD", HEADER)
    ) + '</row><row r="2"><c r="A2"><v>1</v></c><c r="B2" t="inlineStr"><is><t>a</t></is></c><c r="C2"><v>1</v></c><c r="D2"><v>2</v></c></row>'
    path = build_xlsx_from_sheet_xml(tmp_path / "odd.xlsx", header + far_cell)
    with zipfile.ZipFile(path) as archive:
        box = xlsx_sheet_box(archive, "xl/worksheets/sheet1.xml")
    assert box.last_cell == "XFD1048576"
    result = _open_in_subprocess(path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("REFUSED La hoja «Hoja1» tiene datos sueltos muy lejos")


def test_xml_that_inflates_past_the_limit_is_refused(write_xlsx, monkeypatch):
    from petshop.app.imports.parse import sheet_guard, sheet_reader

    path = write_xlsx([HEADER] + [[str(i), "producto", 1, 2.5] for i in range(200)])
    monkeypatch.setattr(sheet_guard, "MAX_XML_BYTES", 5_000)  # as if a zip bomb: stop while inflating
    monkeypatch.setattr(sheet_reader, "MAX_XML_BYTES", 10**9)
    assert file_error(path).startswith("La hoja de cálculo es demasiado grande para importarla.")
    monkeypatch.setattr(sheet_reader, "MAX_XML_BYTES", 5_000)  # ...or as declared in the ZIP directory
    assert file_error(path).startswith("La hoja de cálculo es demasiado grande para importarla.")


def test_the_guard_measures_only_cells_with_a_value(tmp_path):
    sheet = (
        '<row r="2"><c r="B2" t="inlineStr"><is><t>SKU</t></is></c><c r="C2" s="1"/></row>'
        '<row r="9"><c r="D9"><v>4</v></c><c r="Z9" s="2"></c></row><row r="500" s="3"/>'
    )
    path = build_xlsx_from_sheet_xml(tmp_path / "box.xlsx", sheet)
    with zipfile.ZipFile(path) as archive:
        box = xlsx_sheet_box(archive, "xl/worksheets/sheet1.xml")
        upper = xlsx_sheet_box(archive, "xl/worksheets/sheet1.xml", limit=1000)
    assert (box.min_row, box.min_col, box.max_row, box.max_col, box.cells) == (1, 1, 8, 3, 24)
    # the cheap bound counts formatted cells, and every row number of as many digits as the last
    # row's (1-9 here): fine while under the limit
    assert (upper.min_row, upper.min_col, upper.last_cell) == (0, 1, "Z10")


# -- ODS ------------------------------------------------------------------------------------------


def test_ods_is_read_with_title_rows_hidden_sheets_and_libreoffice_empty_repeats(write_ods):
    empty_tail = '<table:table-cell table:number-columns-repeated="16380"/>'
    rows_xml = (
        '<table:table-row><table:table-cell office:value-type="string"><text:p>Inventario</text:p></table:table-cell>'
        f"{empty_tail}</table:table-row>"
        '<table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
        + "".join(
            f"<table:table-row>{''.join(_ods_cells(cells))}{empty_tail}</table:table-row>"
            for cells in (["Código", "Nombre", "Cantidad", "Precio"], ["00123", "Pienso", 4, 12.3], ["77", "Arena", "2", "3,5"])
        )
        + '<table:table-row table:number-rows-repeated="1048570"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    )
    path = write_ods(sheets={"Notas": [["oculta"]], "Stock": rows_xml}, hidden=["Notas"])
    parsed, rows, errors = parse(path)  # how fast: bench/parse_edge_cases.py
    assert (parsed.format, parsed.sheet, parsed.header_line) == ("ods", "Stock", 4)
    assert rows == [row(5, "00123", "Pienso", 4, "12.30"), row(6, "77", "Arena", 2, "3.50")]
    assert (errors, parsed.total_rows) == ([], 2)


def _ods_cells(values):
    return [ods_cell(v) for v in values]


def test_ods_repeated_values_far_away_are_refused_before_calamine_allocates(write_ods):
    # 5,000 rows × 16,384 columns of one repeated value: under calamine's own 100 M-cell limit,
    # so without the guard it would try to allocate gigabytes
    far = (
        '<table:table-row table:number-rows-repeated="5000">'
        '<table:table-cell table:number-columns-repeated="16384" office:value-type="string"><text:p>x</text:p>'
        "</table:table-cell></table:table-row>"
    )
    header = "".join(f"<table:table-row>{''.join(_ods_cells(cells))}</table:table-row>" for cells in (HEADER, ["1", "a", 1, 2]))
    path = write_ods(header + far)
    with zipfile.ZipFile(path) as archive:
        assert ods_sheet_boxes(archive)["Inventario"].last_cell == "XFD5002"
    result = _open_in_subprocess(path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("REFUSED La hoja «Inventario» tiene datos sueltos muy lejos: llega hasta la celda XFD5002")
