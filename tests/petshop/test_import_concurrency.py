"""Imports at the same time, through HTTP with real workers: one store's imports take turns, other
stores' imports do not wait for them, and a product two stores' files create at once exists once."""

from __future__ import annotations

import secrets
from datetime import datetime

import pytest

from tests.petshop.test_inventory_jobs import _csv, unique_skus, wait_task

HEADER = ["SKU", "Nombre", "Stock", "Precio"]


@pytest.fixture(scope="module")
def clerk(make_user):
    return make_user("empleado")


def submit(client, store_id: int, name: str, content: bytes) -> str:
    response = client.post("petshop", "/upload-inventario/", files={"file": (name, content)}, data={"store_id": str(store_id)})
    assert response.status_code == 202, response.text
    return response.json()["task_id"]


def new_store(admin) -> int:
    response = admin.post("petshop", "/tiendas/", json={"name": f"Tienda {secrets.token_hex(3)}"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def all_stock(client, store_id: int, skus: list[str]) -> dict[str, tuple[int, str]]:
    """(quantity, product name) by SKU, paging through the store's stock by SKU cursor."""
    found: dict[str, tuple[int, str]] = {}
    after = None
    while True:
        params = {"limit": 500, **({"after_sku": after} if after else {})}
        page = client.get("petshop", f"/tiendas/{store_id}/stock/", params=params).json()
        if not page:
            return {sku: value for sku, value in found.items() if sku in skus}
        found.update({item["product"]["sku"]: (item["quantity"], item["product"]["name"]) for item in page})
        after = page[-1]["product"]["sku"]


def test_two_imports_into_one_store_apply_one_after_the_other_never_interleaved(clerk, admin):
    store = new_store(admin)
    skus = unique_skus(3000)
    # two different files that share a third of their SKUs: what those end as tells the order
    first_rows = [[sku, "Primero", 1, "1.00"] for sku in skus[:2000]]
    second_rows = [[sku, "Segundo", 2, "2.00"] for sku in skus[1000:]]
    ids = [submit(clerk, store, "primero.csv", _csv([HEADER] + first_rows)),
           submit(clerk, store, "segundo.csv", _csv([HEADER] + second_rows))]
    results = {job_id: wait_task(clerk, job_id, timeout=120) for job_id in ids}
    assert all(job["status"] == "completed" for job in results.values()), results

    records = {job_id: clerk.get("petshop", f"/jobs/{job_id}").json() for job_id in ids}
    # the order their writes ran in, from the job records
    earlier, later = sorted(ids, key=lambda job_id: results[job_id]["result"]["write_started_at"])
    # never interleaved: the later one started writing only after the earlier one had committed
    assert (datetime.fromisoformat(results[later]["result"]["write_started_at"])
            >= datetime.fromisoformat(records[earlier]["finished_at"]))

    rows_of = {ids[0]: first_rows, ids[1]: second_rows}
    expected: dict[str, tuple[int, str]] = {}
    for job_id in (earlier, later):  # applying the two files in that order, by hand
        expected.update({sku: (quantity, name) for sku, name, quantity, _ in rows_of[job_id]})
    assert all_stock(clerk, store, skus) == expected
    # each file's counts are true for its turn: the later one found the shared third already there
    assert results[earlier]["result"]["created"] == 2000
    assert results[later]["result"]["created"] == 1000
    assert results[later]["result"]["updated"] == 1000


def test_two_stores_importing_the_same_new_products_at_once_create_each_product_once(clerk, admin):
    one, two = new_store(admin), new_store(admin)
    skus = unique_skus(2000)
    ids = [submit(clerk, one, "uno.csv", _csv([HEADER] + [[sku, "Nombre uno", 3, "3.00"] for sku in skus])),
           submit(clerk, two, "dos.csv", _csv([HEADER] + [[sku, "Nombre dos", 4, "4.00"] for sku in skus]))]
    results = [wait_task(clerk, job_id, timeout=120) for job_id in ids]

    assert [job["status"] for job in results] == ["completed", "completed"], results
    # every row made a stock row in its own store; the catalog has each SKU once, named by
    # whichever file changed it last (the serial order the catalog lock chose)
    assert [job["result"]["created"] for job in results] == [2000, 2000]
    stock_one, stock_two = all_stock(clerk, one, skus), all_stock(clerk, two, skus)
    assert {sku: quantity for sku, (quantity, _) in stock_one.items()} == dict.fromkeys(skus, 3)
    assert {sku: quantity for sku, (quantity, _) in stock_two.items()} == dict.fromkeys(skus, 4)
    names = {name for _, name in stock_one.values()} | {name for _, name in stock_two.values()}
    assert len(names) == 1 and names <= {"Nombre uno", "Nombre dos"}


def test_a_store_only_import_leaves_a_product_of_another_store_untouched(clerk, admin):
    """Known products, unchanged: the second store's file sets only its own stock (no catalog lock needed)."""
    one, two = new_store(admin), new_store(admin)
    skus = unique_skus(20)
    first = wait_task(clerk, submit(clerk, one, "uno.csv", _csv([HEADER] + [[sku, "Pienso", 1, "1.00"] for sku in skus])))
    second = wait_task(clerk, submit(clerk, two, "dos.csv", _csv([HEADER] + [[sku, "Pienso", 7, "2.00"] for sku in skus])))

    assert first["result"]["created"] == 20 and second["result"]["created"] == 20
    assert all_stock(clerk, two, skus) == dict.fromkeys(skus, (7, "Pienso"))
    assert all_stock(clerk, one, skus) == dict.fromkeys(skus, (1, "Pienso"))
