"""Stores, products, stock and sales through HTTP, as shop staff use them."""

from __future__ import annotations

import secrets
from decimal import Decimal

import pytest


@pytest.fixture(scope="module")
def clerk(make_user):
    return make_user("empleado")


@pytest.fixture
def store(admin):
    return admin.post("petshop", "/tiendas/", json={"name": f"Tienda {secrets.token_hex(3)}", "address": "Calle Mayor 1"}).json()


def new_product(clerk, **fields) -> dict:
    body = {"sku": f"00{secrets.token_hex(3)}", "name": "Pienso", **fields}
    response = clerk.post("petshop", "/productos/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_only_admins_open_stores_and_names_are_unique(admin, clerk, store):
    assert clerk.post("petshop", "/tiendas/", json={"name": "Mía"}).status_code == 403
    assert admin.post("petshop", "/tiendas/", json={"name": store["name"]}).status_code == 409
    assert clerk.get("petshop", f"/tiendas/{store['id']}").json()["address"] == "Calle Mayor 1"
    assert clerk.get("petshop", "/tiendas/999999").status_code == 404


def test_a_sku_keeps_its_leading_zeros_and_is_unique(clerk):
    product = new_product(clerk, sku="000123")

    assert product["sku"] == "000123"
    assert clerk.post("petshop", "/productos/", json={"sku": "000123", "name": "Otro"}).status_code == 409
    assert clerk.get("petshop", "/productos/", params={"q": "000123"}).json()[0]["id"] == product["id"]


def test_products_filter_by_category_and_search_by_name(clerk):
    category = clerk.post("petshop", "/categorias/", json={"name": f"Juguetes {secrets.token_hex(2)}"}).json()
    toy = new_product(clerk, name=f"Pelota {secrets.token_hex(2)}", category_id=category["id"])
    new_product(clerk, name="Otro")

    by_category = clerk.get("petshop", "/productos/", params={"category_id": category["id"]}).json()
    by_name = clerk.get("petshop", "/productos/", params={"q": toy["name"][-4:].upper()}).json()

    assert [p["id"] for p in by_category] == [toy["id"]]
    assert toy["id"] in [p["id"] for p in by_name]
    assert clerk.post("petshop", "/productos/", json={"sku": "x1", "name": "y", "category_id": 999999}).status_code == 404


def test_stock_is_set_per_store_and_low_stock_is_flagged(clerk, store):
    low = new_product(clerk)
    plenty = new_product(clerk)
    clerk.request("PUT", "petshop", f"/tiendas/{store['id']}/stock/{low['sku']}", json={"quantity": 2, "min_stock": 5, "price": "3.50"})
    clerk.request("PUT", "petshop", f"/tiendas/{store['id']}/stock/{plenty['sku']}", json={"quantity": 50, "min_stock": 5, "price": "1.00"})

    only_low = clerk.get("petshop", f"/tiendas/{store['id']}/stock/", params={"low": True}).json()

    assert [item["product"]["sku"] for item in only_low] == [low["sku"]]
    assert only_low[0]["low"] is True and Decimal(only_low[0]["price"]) == Decimal("3.50")
    bad = clerk.request("PUT", "petshop", f"/tiendas/{store['id']}/stock/{low['sku']}", json={"quantity": -1, "price": "0"})
    assert bad.status_code == 422


def test_a_sale_takes_units_out_of_stock_all_lines_or_none(clerk, store):
    product = new_product(clerk)
    clerk.request("PUT", "petshop", f"/tiendas/{store['id']}/stock/{product['sku']}", json={"quantity": 5, "price": "2.00"})

    sold = clerk.post("petshop", f"/tiendas/{store['id']}/ventas/", json={"lines": [{"sku": product["sku"], "quantity": 2}]})
    too_many = clerk.post("petshop", f"/tiendas/{store['id']}/ventas/", json={"lines": [
        {"sku": product["sku"], "quantity": 1}, {"sku": product["sku"], "quantity": 9}]})

    assert sold.status_code == 201 and Decimal(sold.json()[0]["unit_price"]) == Decimal("2.00")
    assert too_many.status_code == 409
    stock = clerk.get("petshop", f"/tiendas/{store['id']}/stock/").json()
    assert stock[0]["quantity"] == 3
    sales = clerk.get("petshop", f"/tiendas/{store['id']}/ventas/").json()
    assert [(s["sku"], s["quantity"]) for s in sales] == [(product["sku"], 2)]


@pytest.mark.parametrize("path", ["/tiendas/", "/categorias/", "/proveedores/"])
def test_every_list_is_paginated_with_a_maximum(admin, clerk, path):
    for _ in range(2):
        name = f"Lista {secrets.token_hex(3)}"
        admin.post("petshop", path, json={"name": name, "address": ""} if path == "/tiendas/" else {"name": name})
    first = clerk.get("petshop", path, params={"limit": 1}).json()
    second = clerk.get("petshop", path, params={"limit": 1, "offset": 1}).json()
    assert len(first) == len(second) == 1 and first != second
    assert clerk.get("petshop", path, params={"limit": 501}).status_code == 422


def test_a_stores_stock_pages_by_cursor_and_filters_by_supplier(clerk, store):
    supplier = clerk.post("petshop", "/proveedores/", json={"name": f"Acme {secrets.token_hex(3)}"}).json()
    prefix = f"K{secrets.token_hex(2)}-"
    skus = [f"{prefix}{n:02d}" for n in range(7)]
    for n, sku in enumerate(skus):
        new_product(clerk, sku=sku, supplier_id=supplier["id"] if n % 2 else None)
        clerk.request("PUT", "petshop", f"/tiendas/{store['id']}/stock/{sku}", json={"quantity": n, "price": "1.00"})
    path = f"/tiendas/{store['id']}/stock/"

    def page(**params) -> list[str]:
        response = clerk.get("petshop", path, params={"q": prefix, "limit": 3, **params})
        assert response.status_code == 200, response.text
        return [item["product"]["sku"] for item in response.json()]

    assert page() == skus[:3]
    assert page(after_sku=skus[2]) == skus[3:6]
    assert page(after_sku=skus[5]) == skus[6:]
    assert page(before_sku=skus[3]) == skus[:3]
    assert page(before_sku=skus[5]) == skus[2:5]  # still in SKU order
    assert page(last=True) == skus[4:]
    assert page(supplier_id=supplier["id"]) == [skus[1], skus[3], skus[5]]
    assert page(supplier_id=supplier["id"], after_sku=skus[3], low=False) == [skus[5]]
    by_supplier = clerk.get("petshop", "/productos/", params={"supplier_id": supplier["id"], "last": True, "limit": 2}).json()
    assert [p["sku"] for p in by_supplier] == [skus[3], skus[5]]
    assert clerk.get("petshop", path, params={"after_sku": "x" * 65}).status_code == 422


def test_a_price_change_is_previewed_without_writing_anything(clerk, store):
    category = clerk.post("petshop", "/categorias/", json={"name": f"Arena {secrets.token_hex(3)}"}).json()
    cheap = new_product(clerk, name="Arena fina", category_id=category["id"])
    dear = new_product(clerk, name="Arena gruesa", category_id=category["id"])
    for product, price in ((cheap, "0.01"), (dear, "10.00")):
        clerk.request("PUT", "petshop", f"/tiendas/{store['id']}/stock/{product['sku']}", json={"quantity": 1, "price": price})

    preview = clerk.post("petshop", "/productos/precios/vista-previa", json={
        "store_id": store["id"], "percentage": "-10", "category_id": category["id"]})

    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert (body["changed"], body["unchanged"], body["failed_updates"]) == (1, 1, 0)  # a cent stays a cent
    assert body["changes"] == [{"sku": dear["sku"], "name": "Arena gruesa", "old_price": "10.00", "new_price": "9.00"}]
    stock = {i["product"]["sku"]: i["price"] for i in clerk.get("petshop", f"/tiendas/{store['id']}/stock/").json()}
    assert stock[dear["sku"]] == "10.00"  # nothing written

    explicit = clerk.post("petshop", "/productos/precios/vista-previa", json={
        "store_id": store["id"], "items": [{"sku": cheap["sku"], "new_price": "2"}, {"sku": "NO-EXISTE", "new_price": "1"}]}).json()
    assert [c["new_price"] for c in explicit["changes"]] == ["2.00"]
    assert explicit["failed"] == [{"sku": "NO-EXISTE", "message": "SKU desconocido en esta tienda"}]
    missing = clerk.post("petshop", "/productos/precios/vista-previa", json={
        "store_id": store["id"], "percentage": "5", "supplier_id": 999999})
    assert missing.status_code == 404 and missing.json()["code"] == "supplier_not_found"
    empty = clerk.post("petshop", "/productos/precios/vista-previa", json={
        "store_id": store["id"], "percentage": "5", "category_id": clerk.post(
            "petshop", "/categorias/", json={"name": f"Vacía {secrets.token_hex(3)}"}).json()["id"]})
    assert empty.status_code == 422 and empty.json()["code"] == "no_products_to_reprice"
