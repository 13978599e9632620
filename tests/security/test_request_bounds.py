"""What PostgreSQL cannot store is refused as a 4xx naming the problem, on both databases.

Each of these was a 500 on PostgreSQL (SQLite stored it, or compared it, without complaint).
"""

from __future__ import annotations

import pytest

BIG = 2**31  # one past PostgreSQL's integer
HUGE = 2**63  # one past its bigint


@pytest.fixture(scope="module")
def store(admin):
    response = admin.post("petshop", "/tiendas/", json={"name": "Tienda Límites"})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    ("method", "service", "path", "kwargs"),
    [
        ("GET", "veterinaria", "/mascotas/2321583364", {}),
        ("GET", "veterinaria", "/mascotas/", {"params": {"owner_id": BIG}}),
        ("GET", "veterinaria", "/propietarios/", {"params": {"offset": HUGE}}),
        ("GET", "petshop", f"/tiendas/{BIG}", {}),
        ("GET", "petshop", "/productos/", {"params": {"category_id": BIG}}),
        ("GET", "petshop", "/productos/", {"params": {"offset": HUGE}}),
        ("GET", "auth", f"/users/{BIG}", {}),
        ("GET", "auth", "/users/", {"params": {"offset": HUGE}}),
        ("GET", "petshop", "/jobs/", {"params": {"offset": HUGE}}),
        ("POST", "veterinaria", "/mascotas/", {"json": {"name": "Luna", "species": "gato", "owner_id": BIG}}),
        ("POST", "petshop", "/productos/", {"json": {"sku": "BIG-1", "name": "x", "category_id": BIG}}),
        ("POST", "petshop", "/productos/precios/", {"json": {"store_id": BIG, "items": [{"sku": "A", "new_price": "1"}]}}),
    ],
)
def test_an_id_or_offset_past_the_database_integer_is_422(admin, method, service, path, kwargs):
    response = admin.request(method, service, path, **kwargs)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error" and "debe ser menor o igual que" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "service", "path", "kwargs"),
    [
        ("GET", "veterinaria", "/mascotas/?q=a%00b", {}),
        ("GET", "petshop", "/productos/?q=a%00b", {}),
        ("GET", "veterinaria", "/historias-clinicas/buscar?q=a%00b", {}),
        ("GET", "petshop", "/tiendas/1/stock/A%00B", {}),
    ],
)
def test_a_nul_character_in_the_address_is_422(admin, method, service, path, kwargs):
    response = admin.request(method, service, path, **kwargs)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "nul_character" and "carácter nulo" in response.json()["detail"]


@pytest.mark.parametrize(
    ("service", "path", "body", "field"),
    [
        ("petshop", "/tiendas/", {"name": "a\u0000b"}, "name"),
        ("veterinaria", "/propietarios/", {"full_name": "Ana\u0000"}, "full_name"),
        ("auth", "/users/", {"username": "nul-user", "password": "p" * 11 + "\u0000", "role": "cliente"}, "password"),
    ],
)
def test_a_nul_character_in_a_body_is_422_naming_the_field(admin, service, path, body, field):
    response = admin.post(service, path, json=body)

    assert response.status_code == 422, response.text
    assert [e["message"] for e in response.json()["errors"]] == [f"«{field}»: no puede contener el carácter nulo (\\0)"]


def test_a_nul_character_in_a_form_field_is_422(admin, store):
    files = {"file": ("inventario.csv", b"SKU,Nombre,Stock,Precio\nA,a,1,2\n", "text/csv")}

    response = admin.post("petshop", "/upload-inventario/", data={"store_id": store["id"], "sheet": "Hoja\u00001"}, files=files)

    assert response.status_code == 422, response.text
    assert "carácter nulo" in response.json()["detail"]


def test_a_user_name_cannot_be_nulled(admin, make_user):
    clerk = make_user("empleado")

    response = admin.patch("auth", f"/users/{clerk.user['id']}", json={"full_name": None})

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "full_name"
    assert admin.patch("auth", f"/users/{clerk.user['id']}", json={"email": None}).status_code == 200


@pytest.mark.parametrize("params", [{"date_to": "0001-01-05"}, {"date_from": "9999-12-31"}])
def test_a_sales_summary_far_outside_the_calendar_is_422(admin, store, params):
    response = admin.post(
        "petshop", "/reportes/inventario/", params={"store_id": store["id"], "report_type": "sales_summary", **params}
    )

    assert response.status_code == 422, response.text
    assert "entre los años 1900 y 2999" in response.json()["detail"]


def test_a_stock_quantity_past_the_database_integer_is_422(admin, store):
    response = admin.request("PUT", "petshop", f"/tiendas/{store['id']}/stock/NOPE", json={"quantity": BIG, "price": "1"})

    assert response.status_code == 422, response.text
