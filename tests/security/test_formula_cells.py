"""Every CSV and XLSX a person downloads shows formula-looking text as text: the import's error list and
the three reports, in both formats, built from names, categories and suppliers an attacker chose.

OWASP's triggers are `=`, `+`, `-`, `@`, tab and carriage return at the start of a cell; a cell that
starts with one must come out with a leading apostrophe, unless it is a plain number.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from common.spreadsheet_safety import FORMULA_TRIGGERS, PLAIN_NUMBER
from tests.jobs_helpers import wait_for_job

PAYLOADS = ['=HYPERLINK("http://x.invalid","pulsa")', "+SUM(1,1)", "-2+3", "@SUM(1)", "\tTAB=1", "\r=CR"]


def dangerous(cells) -> list[str]:
    return [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.fullmatch(c)]


def csv_cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def xlsx_cells(data: bytes) -> tuple[list, int]:
    """Every cell's value, and how many cells are formulas."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    return [c.value for c in cells], sum(c.data_type == "f" for c in cells)


@pytest.fixture(scope="module")
def poisoned_store(world):
    """A store whose products, categories and suppliers are named with formulas, with one sale."""
    admin, clerk = world.clients["admin"], world.clients["empleado"]
    store = admin.post("petshop", "/tiendas/", json={"name": "Tienda Fórmulas"}).json()
    lines = ["SKU,Nombre,Stock,Precio,Stock mínimo,Categoría,Proveedor"]
    for index, payload in enumerate(PAYLOADS):
        quoted = '"' + payload.replace('"', '""') + '"'
        lines.append(f"F-{index},{quoted},10,2.5,20,{quoted},{quoted}")
        lines.append(f'{quoted},{quoted},no-es-un-numero,2.5,1,,')  # refused: its cells go to the error list
    response = clerk.post("petshop", "/upload-inventario/", data={"store_id": store["id"]},
                          files={"file": ("formulas.csv", "\n".join(lines).encode(), "text/csv")})
    job = wait_for_job(clerk, "petshop", response.json()["task_id"])
    assert job["status"] == "completed" and job["result"]["failed_updates"] >= len(PAYLOADS), job
    sale = clerk.post("petshop", f"/tiendas/{store['id']}/ventas/", json={"lines": [{"sku": "F-0", "quantity": 1}]})
    assert sale.status_code == 201, sale.text
    return store, job["id"]


def test_the_error_list_of_an_import_shows_formulas_as_text(world, poisoned_store):
    _, job_id = poisoned_store

    response = world.clients["empleado"].get("petshop", f"/inventario/task/{job_id}/errores.csv")

    assert response.status_code == 200
    cells = csv_cells(response.content)
    assert dangerous(cells) == []
    assert any(cell.startswith("'=HYPERLINK") for cell in cells) and any(cell.startswith("'@SUM") for cell in cells)


@pytest.mark.parametrize("report_type", ["stock_low", "inventory_value", "sales_summary"])
def test_every_report_shows_formulas_as_text_in_csv_and_xlsx(world, poisoned_store, report_type):
    store, _ = poisoned_store
    clerk = world.clients["empleado"]
    accepted = clerk.post("petshop", "/reportes/inventario/", params={"store_id": store["id"], "report_type": report_type})
    assert wait_for_job(clerk, "petshop", accepted.json()["task_id"])["status"] == "completed"
    path = f"/reportes/inventario/{accepted.json()['task_id']}/archivo"

    csv_file = csv_cells(clerk.get("petshop", path, params={"formato": "csv"}).content)
    xlsx_file, formulas = xlsx_cells(clerk.get("petshop", path, params={"formato": "xlsx"}).content)

    assert dangerous(csv_file) == [] and dangerous(xlsx_file) == [] and formulas == 0
    assert any(str(cell).startswith("'=HYPERLINK") for cell in csv_file)
    assert any(str(cell).startswith("'=HYPERLINK") for cell in xlsx_file)
