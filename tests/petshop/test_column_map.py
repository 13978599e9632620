"""The import's manual column mapping (issue #9): a map {field: column} overrides header detection.

Parsing level here (no database); one test at the end goes through the real API, worker and database.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from petshop.app.imports.parse import InventoryFileError, open_inventory
from petshop.app.imports.parse.column_map import ColumnMapError, parse_column_map
from tests.petshop.test_inventory_jobs import clerk, stock_of, store, unique_skus, upload  # noqa: F401 (fixtures)

# "Ref.", "Artículo" and "Uds" are recognised; "Importe" is not, so the price is missing
SHOP_CSV = "Ref.;Artículo;Uds;Importe;Notas\nA-1;Pienso;3;12,50;x\nA-2;Arena;7;4,00;y\n"


def rows_of(path, **kwargs):
    parsed = open_inventory(path, **kwargs)
    rows = [row for chunk, _errors in parsed.chunks() for row in chunk]
    return parsed, rows


def test_without_a_map_the_unrecognised_price_fails_with_the_files_columns(write_csv):
    with pytest.raises(InventoryFileError) as caught:
        open_inventory(write_csv(SHOP_CSV))
    assert caught.value.code == "missing_columns"
    assert caught.value.details == {
        "missing_fields": ["price"],
        "columns": {"sku": "Ref.", "name": "Artículo", "stock": "Uds"},
        "file_columns": ["Ref.", "Artículo", "Uds", "Importe", "Notas"],
    }


def test_a_map_by_header_text_supplies_the_missing_price(write_csv):
    parsed, rows = rows_of(write_csv(SHOP_CSV), column_map={"price": "Importe"})
    assert parsed.columns == {"sku": "Ref.", "name": "Artículo", "stock": "Uds", "price": "Importe"}
    assert parsed.unknown_columns == ["Notas"]
    assert [(r.sku, r.stock, r.price) for r in rows] == [("A-1", 3, Decimal("12.50")), ("A-2", 7, Decimal("4.00"))]


def test_a_map_by_letter_overrides_what_detection_found(write_csv):
    # detection took "Artículo" for the name; the map moves the name to "Notas" (E) and the price to D
    parsed, rows = rows_of(write_csv(SHOP_CSV), column_map={"price": "d", "name": "E"})
    assert parsed.columns["name"] == "Notas" and parsed.columns["price"] == "Importe"
    assert parsed.column_indexes == {"sku": 0, "stock": 2, "price": 3, "name": 4}
    assert "Artículo" in parsed.unknown_columns
    assert [r.name for r in rows] == ["x", "y"]


def test_a_mapped_column_takes_it_away_from_the_field_detection_gave_it(write_csv):
    parsed, _ = rows_of(write_csv("SKU;Nombre;Stock;Precio;Importe\n1;a;1;2;3\n"), column_map={"price": "Importe"})
    assert parsed.columns["price"] == "Importe" and "Precio" in parsed.unknown_columns
    with pytest.raises(InventoryFileError) as caught:  # the price column mapped as the stock: the price is missing
        open_inventory(write_csv("SKU;Nombre;Stock;Precio\n1;a;1;2\n"), column_map={"stock": "Precio"})
    assert caught.value.code == "missing_columns" and caught.value.details["missing_fields"] == ["price"]


def test_a_file_without_any_recognised_header_uses_its_first_row_with_the_map(write_csv):
    text = "Listado\nCol1;Col2;Col3;Col4\nX-1;Pienso;3;1,5\n"
    with pytest.raises(InventoryFileError) as caught:
        open_inventory(write_csv(text))
    assert caught.value.code == "header_not_found"
    assert caught.value.details["file_columns"] == ["Listado"]  # what a map would be read against
    # the first non-empty row is the header: here the title, which has only column A
    with pytest.raises(InventoryFileError) as caught:
        open_inventory(write_csv(text), column_map={"sku": "A", "name": "B", "stock": "C", "price": "D"})
    assert caught.value.code == "mapped_column_missing"
    parsed, rows = rows_of(write_csv(text[len("Listado\n"):]),
                           column_map={"sku": "Col1", "name": "Col2", "stock": "C", "price": "D"})
    assert parsed.header_line == 1 and [(r.sku, r.price) for r in rows] == [("X-1", Decimal("1.5"))]


def test_a_mapped_column_that_is_not_in_the_file_is_named_with_the_files_columns(write_csv):
    with pytest.raises(InventoryFileError) as caught:
        open_inventory(write_csv(SHOP_CSV), column_map={"price": "PVP final"})
    assert caught.value.code == "mapped_column_missing"
    assert caught.value.message == (
        "La columna «PVP final» asignada a Precio no está en el archivo. Las columnas de la fila de títulos (fila 1) "
        "son: A «Ref.», B «Artículo», C «Uds», D «Importe», E «Notas»."
    )
    with pytest.raises(InventoryFileError) as caught:
        open_inventory(write_csv(SHOP_CSV), column_map={"price": "Z"})
    assert caught.value.code == "mapped_column_missing"


def test_two_fields_on_one_column_by_text_and_letter_fail_at_parse(write_csv):
    with pytest.raises(InventoryFileError) as caught:
        open_inventory(write_csv(SHOP_CSV), column_map={"price": "Importe", "stock": "D"})
    assert caught.value.code == "column_map_shared_column"


@pytest.mark.parametrize(("text", "code"), [
    ("{", "column_map_invalid_json"),
    ('["price"]', "column_map_not_object"),
    ('{"precio": "D"}', "column_map_unknown_field"),
    ('{"price": 3}', "column_map_bad_column"),
    ('{"price": "  "}', "column_map_bad_column"),
    ('{"price": "D", "stock": "d"}', "column_map_shared_column"),
    ('{"price": "Importe", "stock": "Importe"}', "column_map_shared_column"),
])
def test_a_bad_map_is_refused_with_a_stable_code(text, code):
    with pytest.raises(ColumnMapError) as caught:
        parse_column_map(text)
    assert caught.value.code == code and caught.value.message


def test_an_empty_map_is_no_map():
    assert parse_column_map("") is None and parse_column_map("{}") is None
    assert parse_column_map('{"price": " Importe "}') == {"price": "Importe"}


# --- through the API, a worker and the database ---------------------------------------------------


def test_the_api_takes_a_column_map_refuses_a_bad_one_and_reports_missing_columns(clerk, store):  # noqa: F811
    a, b = unique_skus(2)
    content = SHOP_CSV.replace("A-1", a).replace("A-2", b).encode()

    failed = upload(clerk, store["id"], "tienda.csv", content, dry_run="true")
    assert failed["status"] == "failed" and "Precio" in failed["error"]
    assert failed["result"]["missing_fields"] == ["price"]
    assert failed["result"]["file_columns"] == ["Ref.", "Artículo", "Uds", "Importe", "Notas"]

    refused = clerk.post("petshop", "/upload-inventario/", files={"file": ("tienda.csv", content)},
                         data={"store_id": str(store["id"]), "column_map": '{"precio": "Importe"}'})
    assert refused.status_code == 422 and refused.json()["code"] == "column_map_unknown_field"

    missing = upload(clerk, store["id"], "tienda.csv", content, column_map='{"price": "PVP"}')
    assert missing["status"] == "failed" and "«PVP»" in missing["error"] and "D «Importe»" in missing["error"]

    job = upload(clerk, store["id"], "tienda.csv", content, column_map='{"price": "Importe"}')
    assert job["status"] == "completed", job
    assert job["result"]["columns"]["price"] == "Importe" and job["result"]["column_letters"]["price"] == "D"
    assert job["result"]["column_map"] == {"price": "Importe"}
    stock = stock_of(clerk, store["id"])
    assert Decimal(stock[a]["price"]) == Decimal("12.50") and stock[b]["quantity"] == 7
