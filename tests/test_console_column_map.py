"""The console's «Asignar columnas» (issue #9) in a real headless Chromium against the real stack.

The fixtures (stack, browser, people) are test_console_browser.py's; the stack is the session's shared console stack.
Every page the story reaches is checked with axe-core (no serious/critical violation) by check_page.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from playwright.sync_api import expect

from tests.browser_helpers import check_page, ensure_worker, log_in, open_from_menu
from tests.test_console_browser import (  # noqa: F401 (fixtures)
    api_admin,
    browser,
    console_stack,
    page,
    person,
    sqlite_pass_only,
)

SHARED_CONSOLE_STACK = True  # the session's console stack (tests/conftest.py), shared with the other such modules

# the price column is headed «Importe», which detection does not take for a price
SHOP_FILE = "Ref.;Artículo;Uds;Importe\nMAP-001;Pienso cachorro;6;18,25\nMAP-002;Hueso de goma;9;3,40\n".encode()


def test_a_price_column_detection_missed_is_mapped_by_hand_then_applied(page, person, api_admin, console_stack):  # noqa: F811
    clerk = person("empleado")
    name = f"Tienda Columnas {secrets.token_hex(2)}"
    store = api_admin.post("petshop", "/tiendas/", json={"name": name}).json()
    ensure_worker(console_stack)
    log_in(page, clerk)
    open_from_menu(page, "Importar inventario")
    page.get_by_label("Tienda").select_option(label=name)
    page.get_by_label("Archivo").set_input_files(files=[{"name": "tienda.csv", "mimeType": "text/csv", "buffer": SHOP_FILE}])
    page.get_by_role("button", name="Ver la vista previa").click()

    expect(page.get_by_role("heading", name="No se ha podido importar")).to_be_visible(timeout=120_000)
    expect(page.get_by_role("alert")).to_contain_text("Falta la columna «Precio»")
    expect(page.get_by_role("heading", name="Asignar columnas")).to_be_visible()
    # pre-filled with what detection found; the price is «— no está —»
    expect(page.get_by_label("SKU")).to_have_value("A")
    expect(page.get_by_label("Unidades")).to_have_value("C")
    expect(page.get_by_label("Precio")).to_have_value("")
    check_page(page, "importar-asignar-columnas")

    page.get_by_label("Precio").select_option(label="D · Importe")
    page.get_by_role("button", name="Ver la vista previa con estas columnas").click()
    expect(page.get_by_role("heading", name="Vista previa de la importación")).to_be_visible(timeout=120_000)
    columns = dict(zip(page.locator("#importacion table").first.locator("td[data-label=Dato]").all_inner_texts(),
                       page.locator("#importacion table").first.locator("td[data-label=Columna]").all_inner_texts()))
    assert columns["Precio"] == "Importe" and columns["SKU"] == "Ref."
    expect(page.locator("td[data-label=Precio]").first).to_contain_text("18,25")
    check_page(page, "importar-columnas-vista-previa")
    assert clerk.api.get("petshop", f"/tiendas/{store['id']}/stock/").json() == []

    page.get_by_role("button", name="Aplicar la importación").click()
    expect(page.get_by_role("heading", name="Importación terminada")).to_be_visible(timeout=120_000)
    stock = {item["product"]["sku"]: (item["quantity"], Decimal(item["price"]))
             for item in clerk.api.get("petshop", f"/tiendas/{store['id']}/stock/").json()}
    assert stock == {"MAP-001": (6, Decimal("18.25")), "MAP-002": (9, Decimal("3.40"))}
