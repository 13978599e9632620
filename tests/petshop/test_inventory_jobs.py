"""The seed's petshop endpoints through HTTP with a real worker: imports, bulk prices, reports."""

from __future__ import annotations

import csv
import io
import secrets
import threading
from decimal import Decimal

import pytest
import xlsxwriter

from tests.jobs_helpers import wait_for_status


def wait_task(client, task_id: str, timeout: float = 60) -> dict:
    return wait_for_status(client, "petshop", f"/inventario/task/{task_id}", timeout=timeout)


@pytest.fixture(scope="module")
def clerk(make_user):
    return make_user("empleado")


@pytest.fixture
def store(admin):
    response = admin.post("petshop", "/tiendas/", json={"name": f"Tienda {secrets.token_hex(3)}"})
    assert response.status_code == 201, response.text
    return response.json()


def upload(client, store_id: int, name: str, content: bytes, **form) -> dict:
    response = client.post(
        "petshop", "/upload-inventario/", files={"file": (name, content)}, data={"store_id": str(store_id), **form}
    )
    assert response.status_code == 202, response.text
    return wait_task(client, response.json()["task_id"])


def stock_of(client, store_id: int) -> dict[str, dict]:
    items = client.get("petshop", f"/tiendas/{store_id}/stock/", params={"limit": 500}).json()
    return {item["product"]["sku"]: item for item in items}


def unique_skus(n: int) -> list[str]:
    prefix = secrets.token_hex(3).upper()
    return [f"0{prefix}{i:04d}" for i in range(n)]


MESSY_CSV = (
    "Listado de precios proveedor Mascotas SL;;;;\n"
    ";;;;\n"
    "Código;Descripción;Existencias;PVP;Categoría;Proveedor;Color\n"
    "{a};Pienso Perro Adulto 15kg;1.200;45,90 €;Alimentación;Mascotas SL;rojo\n"
    "{b};Arena gato;-3;9,99;Higiene;Mascotas SL;azul\n"
    "{c};Collar antiparasitario;25;abc;Accesorios;;verde\n"
    ";Sin código;4;2,00;;;\n"
    "{a};Pienso repetido;1;1,00;;;\n"
)


def test_a_messy_supplier_csv_is_imported_and_its_bad_rows_reported(clerk, store):
    a, b, c = unique_skus(3)
    content = MESSY_CSV.format(a=a, b=b, c=c).encode("cp1252")

    job = upload(clerk, store["id"], "proveedor.csv", content)

    assert job["status"] == "completed", job
    result = job["result"]
    assert job["total_processed"] == 5
    assert job["successful_updates"] == 1 and result["created"] == 1
    assert job["failed_updates"] == 4
    assert result["unknown_columns"] == ["Color"]
    errors = {error["row"]: error for error in result["errors"]}
    assert set(errors) == {5, 6, 7, 8}  # the rows as numbered in the supplier's file
    assert errors[5]["sku"] == b and errors[6]["column"] == "PVP"
    item = stock_of(clerk, store["id"])[a]
    assert item["quantity"] == 1200 and Decimal(item["price"]) == Decimal("45.90")
    assert item["product"]["name"] == "Pienso Perro Adulto 15kg"
    assert item["product"]["category"]["name"] == "Alimentación"
    assert item["product"]["supplier"]["name"] == "Mascotas SL"

    failed = clerk.get("petshop", result["errors_csv_url"])
    assert failed.status_code == 200
    rows = list(csv.reader(io.StringIO(failed.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["fila", "sku", "columna", "motivo"] and len(rows) == 5


def xlsx_bytes(rows: list[list], title: str | None = None) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Inventario")
    offset = 0
    if title:
        sheet.write_row(0, 0, [title])
        offset = 2
    for index, row in enumerate(rows):
        sheet.write_row(index + offset, 0, row)
    workbook.close()
    return buffer.getvalue()


def test_reimporting_the_same_file_changes_nothing_and_says_so(clerk, store):
    skus = unique_skus(4)
    rows = [["SKU", "Nombre", "Stock", "Precio", "Stock mínimo"]] + [
        [sku, f"Producto {i}", 10 + i, 1.5 + i, 2] for i, sku in enumerate(skus)
    ]
    content = xlsx_bytes(rows, title="Inventario noviembre")

    first = upload(clerk, store["id"], "inventario.xlsx", content)
    second = upload(clerk, store["id"], "inventario.xlsx", content)

    assert first["result"]["created"] == 4 and first["result"]["sheet"] == "Inventario"
    assert (second["result"]["created"], second["result"]["updated"], second["result"]["unchanged"]) == (0, 0, 4)
    stock = stock_of(clerk, store["id"])
    assert stock[skus[0]]["quantity"] == 10 and Decimal(stock[skus[3]]["price"]) == Decimal("4.50")
    assert stock[skus[0]]["min_stock"] == 2


def test_a_changed_file_counts_updates(clerk, store):
    skus = unique_skus(3)
    header = ["sku", "name", "qty", "price"]
    upload(clerk, store["id"], "a.csv", _csv([header] + [[s, "X", 1, "1.00"] for s in skus]))

    job = upload(clerk, store["id"], "b.csv", _csv([header, [skus[0], "X", 5, "1.00"], [skus[1], "X", 1, "2.00"], [skus[2], "X", 1, "1.00"]]))

    assert (job["result"]["created"], job["result"]["updated"], job["result"]["unchanged"]) == (0, 2, 1)


def test_a_dry_run_reports_but_writes_nothing(clerk, store):
    skus = unique_skus(2)
    job = upload(clerk, store["id"], "x.csv", _csv([["SKU", "Nombre", "Stock", "Precio"]] + [[s, "X", 1, "1"] for s in skus]), dry_run="true")

    assert job["status"] == "completed" and job["result"]["dry_run"] is True and job["result"]["created"] == 2
    assert stock_of(clerk, store["id"]) == {}


def _csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("vacio.csv", b"", "vacío"),
        ("foto.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, ""),
    ],
)
def test_files_that_are_plainly_wrong_are_refused_at_upload(clerk, store, name, content, fragment):
    response = clerk.post("petshop", "/upload-inventario/", files={"file": (name, content)}, data={"store_id": str(store["id"])})

    assert response.status_code == 422, response.text
    assert fragment in response.json()["detail"]


def test_a_file_missing_a_required_column_fails_the_job_with_its_name(clerk, store):
    job = upload(clerk, store["id"], "x.csv", b"SKU;Nombre;Stock\nA1;x;1\n")

    assert job["status"] == "failed"
    assert "Precio" in job["error"]
    assert stock_of(clerk, store["id"]) == {}


def test_an_upload_over_the_limit_is_refused_while_streaming(clerk, store, stack):
    limit = int(stack.env.get("MAX_UPLOAD_MB", "20")) * 1024 * 1024
    response = clerk.post(
        "petshop", "/upload-inventario/", files={"file": ("big.csv", b"a" * (limit + 200_000))}, data={"store_id": str(store["id"])}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "upload_too_large" and "límite" in response.json()["detail"]


def test_an_unknown_store_is_404_at_upload(clerk):
    response = clerk.post("petshop", "/upload-inventario/", files={"file": ("a.csv", b"SKU,Nombre,Stock,Precio\n1,a,1,1\n")}, data={"store_id": "999999"})
    assert response.status_code == 404


def test_two_imports_racing_on_the_same_skus_end_as_one_of_the_serial_orders(clerk, store):
    skus = unique_skus(50)
    header = ["SKU", "Nombre", "Stock", "Precio"]
    file_a = _csv([header] + [[s, "A", 1, "1.00"] for s in skus])
    file_b = _csv([header] + [[s, "B", 2, "2.00"] for s in skus])
    jobs: list[dict] = []

    def run(content):
        jobs.append(upload(clerk, store["id"], "race.csv", content))

    threads = [threading.Thread(target=run, args=(content,)) for content in (file_a, file_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stock = stock_of(clerk, store["id"])
    finals = {(item["quantity"], item["product"]["name"]) for sku, item in stock.items() if sku in skus}
    assert finals in ({(1, "A")}, {(2, "B")})
    assert sorted(job["result"]["created"] for job in jobs) == [0, 50]
    assert sorted(job["result"]["updated"] for job in jobs) == [0, 50]


def test_bulk_prices_by_sku_round_to_cents_and_list_unknown_skus(clerk, store):
    skus = unique_skus(2)
    upload(clerk, store["id"], "p.csv", _csv([["SKU", "Nombre", "Stock", "Precio"]] + [[s, "X", 1, "10.00"] for s in skus]))

    response = clerk.post("petshop", "/productos/precios/", json={
        "store_id": store["id"], "items": [{"sku": skus[0], "new_price": "12.345"}, {"sku": "NOPE-1", "new_price": "1"}],
    })
    job = wait_task(clerk, response.json()["task_id"])

    assert job["status"] == "completed", job
    assert job["result"]["changes"] == [{"sku": skus[0], "old_price": "10.00", "new_price": "12.35"}]
    assert job["result"]["failed"] == [{"sku": "NOPE-1", "message": "SKU desconocido en esta tienda"}]
    assert Decimal(stock_of(clerk, store["id"])[skus[0]]["price"]) == Decimal("12.35")


def test_a_percentage_for_a_category_rounds_to_cents(clerk, store):
    skus = unique_skus(2)
    category = f"Cat {secrets.token_hex(3)}"
    upload(clerk, store["id"], "c.csv", _csv([["SKU", "Nombre", "Stock", "Precio", "Categoría"],
                                             [skus[0], "X", 1, "9.99", category], [skus[1], "Y", 1, "5.00", ""]]))
    category_id = next(c["id"] for c in clerk.get("petshop", "/categorias/").json() if c["name"] == category)

    response = clerk.post("petshop", "/productos/precios/", json={"store_id": store["id"], "percentage": "10", "category_id": category_id})
    job = wait_task(clerk, response.json()["task_id"])

    assert job["result"]["changes"] == [{"sku": skus[0], "old_price": "9.99", "new_price": "10.99"}]
    stock = stock_of(clerk, store["id"])
    assert Decimal(stock[skus[0]]["price"]) == Decimal("10.99") and Decimal(stock[skus[1]]["price"]) == Decimal("5.00")


def test_a_stock_low_report_comes_as_json_csv_and_xlsx(clerk, store):
    skus = unique_skus(2)
    upload(clerk, store["id"], "l.csv", _csv([["SKU", "Nombre", "Stock", "Precio", "Stock mínimo"],
                                             [skus[0], "=HYPERLINK(\"x\")", 1, "3.00", 5], [skus[1], "Ok", 50, "3.00", 5]]))

    response = clerk.post("petshop", "/reportes/inventario/", params={"store_id": store["id"], "report_type": "stock_low"})
    assert response.status_code == 202
    job = wait_task(clerk, response.json()["task_id"])

    assert job["status"] == "completed", job
    assert job["result"]["count"] == 1
    downloaded = clerk.get("petshop", job["result"]["csv_url"])
    assert downloaded.status_code == 200 and skus[0] in downloaded.text and "'=HYPERLINK" in downloaded.text
    xlsx = clerk.get("petshop", job["result"]["xlsx_url"])
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_each_kind_of_job_answers_at_the_route_where_it_was_submitted(clerk, store):
    skus = unique_skus(1)
    imported = clerk.post("petshop", "/upload-inventario/", files={"file": ("s.csv", _csv([["SKU", "Nombre", "Stock", "Precio"], [skus[0], "X", 1, "2.00"]]))},
                          data={"store_id": str(store["id"])}).json()
    report = clerk.post("petshop", "/reportes/inventario/", params={"store_id": store["id"], "report_type": "inventory_value"}).json()
    prices = clerk.post("petshop", "/productos/precios/", json={"store_id": store["id"], "items": [{"sku": skus[0], "new_price": "3"}]}).json()

    assert imported["status_url"] == f"/inventario/task/{imported['task_id']}"
    assert report["status_url"] == f"/reportes/inventario/{report['task_id']}"
    assert prices["status_url"] == f"/productos/precios/{prices['task_id']}"
    for accepted, kind in ((imported, "inventory_import"), (report, "inventory_report"), (prices, "price_update")):
        job = wait_for_status(clerk, "petshop", accepted["status_url"])
        assert job["status"] == "completed" and job["kind"] == kind, job
        # the seed's route still shows any petshop job
        assert clerk.get("petshop", f"/inventario/task/{accepted['task_id']}").json()["kind"] == kind
    # a kind's own route does not show another kind's job, nor another user's
    for path in (f"/reportes/inventario/{imported['task_id']}", f"/productos/precios/{report['task_id']}",
                 f"/reportes/inventario/{prices['task_id']}/archivo", f"/inventario/task/{report['task_id']}/errores.csv"):
        answer = clerk.get("petshop", path)
        assert answer.status_code == 404 and answer.json()["code"] == "job_not_found", (path, answer.text)
    assert clerk.get("petshop", "/reportes/inventario/00000000-0000-0000-0000-000000000000").status_code == 404


@pytest.mark.parametrize(("params", "status"), [({"store_id": 1, "report_type": "everything"}, 422), ({"store_id": 999999, "report_type": "stock_low"}, 404)])
def test_a_bad_report_request_is_refused_at_submit_time(clerk, params, status):
    assert clerk.post("petshop", "/reportes/inventario/", params=params).status_code == status


def test_a_vet_or_a_client_cannot_touch_the_inventory(make_user, store):
    for role in ("veterinario", "cliente"):
        someone = make_user(role)
        assert someone.get("petshop", f"/tiendas/{store['id']}/stock/").status_code == 403
        assert someone.post("petshop", "/upload-inventario/", files={"file": ("a.csv", b"x")}, data={"store_id": "1"}).status_code == 403


def test_running_a_price_change_twice_is_the_same_as_once(clerk, store):
    (sku,) = unique_skus(1)
    upload(clerk, store["id"], "p.csv", _csv([["SKU", "Nombre", "Stock", "Precio"], [sku, "X", 1, "10.00"]]))
    body = {"store_id": store["id"], "items": [{"sku": sku, "new_price": "11.00"}]}

    first = wait_task(clerk, clerk.post("petshop", "/productos/precios/", json=body).json()["task_id"])
    second = wait_task(clerk, clerk.post("petshop", "/productos/precios/", json=body).json()["task_id"])

    assert first["result"]["changed"] == 1 and second["result"]["changed"] == 0 and second["result"]["unchanged"] == 1
    assert Decimal(stock_of(clerk, store["id"])[sku]["price"]) == Decimal("11.00")


@pytest.mark.parametrize("body", [
    {"store_id": 1},
    {"store_id": 1, "percentage": "5"},
    {"store_id": 1, "percentage": "5", "category_id": 1, "supplier_id": 1},
    {"store_id": 1, "items": [], "percentage": "5", "category_id": 1},
    {"store_id": 1, "percentage": "-100", "category_id": 1},
])
def test_an_ambiguous_price_change_is_refused_at_submit_time(clerk, body):
    assert clerk.post("petshop", "/productos/precios/", json=body).status_code == 422


def test_a_truncated_workbook_fails_the_job_with_a_message_and_writes_nothing(clerk, store):
    whole = xlsx_bytes([["SKU", "Nombre", "Stock", "Precio"], ["T1", "x", 1, 1.0]])

    job = upload(clerk, store["id"], "cortado.xlsx", whole[: len(whole) // 2])

    assert job["status"] == "failed" and job["error"]
    assert "Traceback" not in job["error"]
    assert stock_of(clerk, store["id"]) == {}


def test_a_sheet_with_a_stray_far_cell_fails_cleanly_and_the_worker_survives(clerk, store):
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["SKU", "Nombre", "Stock", "Precio"])
    sheet.write_row(1, 0, ["F1", "x", 1, 1.0])
    sheet.write_string(1_048_575, 16_383, "x")  # XFD1048576
    workbook.close()

    job = upload(clerk, store["id"], "lejos.xlsx", buffer.getvalue())

    assert job["status"] == "failed" and job["error"]
    assert stock_of(clerk, store["id"]) == {}
    # the same worker still takes the next file
    ok = upload(clerk, store["id"], "ok.csv", b"SKU,Nombre,Stock,Precio\nF2,x,1,1\n")
    assert ok["status"] == "completed"


def test_a_workbook_built_to_exhaust_memory_fails_with_its_code_and_the_worker_survives(clerk, store, tmp_path):
    from tests.security.hostile_files import xlsx_cloned_shared_string

    # 0.6 MB: one 8 KiB shared string in 40,000 cells, which calamine would copy into each (1 GB)
    bomb = xlsx_cloned_shared_string(tmp_path / "bomba.xlsx", kib=8, cells=40_000).read_bytes()

    job = upload(clerk, store["id"], "bomba.xlsx", bomb)

    assert job["status"] == "failed" and "demasiado grande" in job["error"]
    assert clerk.get("petshop", f"/jobs/{job['task_id']}").json()["error_code"] == "spreadsheet_too_large"
    ok = upload(clerk, store["id"], "ok.csv", b"SKU,Nombre,Stock,Precio\nM1,x,1,1\n")
    assert ok["status"] == "completed"
