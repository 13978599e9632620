"""The console's shop and admin pages (issue #9) in a real headless Chromium against the real stack.

The fixtures (stack, browser, people) are test_console_browser.py's; the stack is the session's shared
console stack (its one worker is started by the first story that needs it). Stories also: an
import's bar showing a live percentage and rows per second while it applies. Every page a story reaches is
screenshotted at desktop and phone size and checked with axe-core by check_page.
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from pathlib import Path

import httpx
from playwright.sync_api import expect

from tests.browser_helpers import DESKTOP, PHONE, Person, check_page, ensure_worker, log_in, open_from_menu
from tests.test_console_browser import (  # noqa: F401 (fixtures)
    api_admin,
    browser,
    console_stack,
    page,
    person,
    sqlite_pass_only,
)

SHARED_CONSOLE_STACK = True  # the session's console stack (tests/conftest.py), shared with the other such modules
TABLET = {"width": 1024, "height": 768}


def check(tab, name: str) -> None:
    """check_page (desktop and phone: screenshots, axe, no sideways scroll), and no sideways scroll on a tablet either."""
    check_page(tab, name)
    tab.set_viewport_size(TABLET)
    overflow = tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 1024px"
    tab.set_viewport_size(DESKTOP)


def catalogue_file(count: int) -> bytes:
    """`count` products, odd ones from «Piensos Norte», even ones from «Piensos Sur»; every 7th at its minimum."""
    lines = ["SKU;Nombre;Stock;Precio;Stock mínimo;Categoría;Proveedor"]
    for n in range(1, count + 1):
        lines.append(f"CAT-{n:03d};Producto {n};{2 if n % 7 == 0 else 40};{n},50;5;Alimentación;"
                     f"{'Piensos Norte' if n % 2 else 'Piensos Sur'}")
    return ("\n".join(lines) + "\n").encode()


def drop_file(tab, selector: str, *, name: str, content: bytes) -> None:
    """Drop a file on an element the way a person drags one from their desktop (a DataTransfer with a File)."""
    tab.evaluate("""([selector, name, text]) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([text], name, {type: 'text/csv'}));
        const zone = document.querySelector(selector);
        for (const type of ['dragenter', 'dragover', 'drop']) {
            zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
        }
    }""", [selector, name, content.decode()])


def new_store(admin_api, prefix: str) -> dict:
    return admin_api.post("petshop", "/tiendas/", json={"name": f"{prefix} {secrets.token_hex(2)}"}).json()


def stocked(clerk: Person, store: dict, sku: str, *, name: str, quantity: int, price: str, **fields) -> None:
    created = clerk.api.post("petshop", "/productos/", json={"sku": sku, "name": name, **fields})
    assert created.status_code == 201, created.text
    put = clerk.api.request("PUT", "petshop", f"/tiendas/{store['id']}/stock/{sku}", json={"quantity": quantity, "price": price})
    assert put.status_code == 200, put.text


def test_a_dropped_catalogue_is_imported_then_paged_by_cursor_filtered_by_supplier_and_compact_on_a_phone(
        page, person, api_admin, console_stack):  # noqa: F811
    clerk = person("empleado")
    store = new_store(api_admin, "Tienda Grande")
    ensure_worker(console_stack)
    log_in(page, clerk)
    open_from_menu(page, "Importar inventario")
    page.get_by_label("Tienda", exact=True).select_option(label=store["name"])
    drop_file(page, "[data-dropzone]", name="catalogo.csv", content=catalogue_file(60))
    expect(page.get_by_text("Archivo elegido: catalogo.csv")).to_be_visible()
    check(page, "importar-archivo-soltado")
    page.get_by_role("button", name="Ver la vista previa").click()
    expect(page.get_by_role("heading", name="Vista previa de la importación")).to_be_visible(timeout=120_000)
    expect(page.get_by_role("list", name="Resumen")).to_contain_text("60 nuevos")
    page.get_by_role("button", name="Aplicar la importación").click()
    expect(page.get_by_role("heading", name="Importación terminada")).to_be_visible(timeout=120_000)
    expect(page.get_by_text("filas por segundo")).to_be_visible()

    open_from_menu(page, "Productos y stock")
    page.get_by_label("Tienda", exact=True).select_option(label=store["name"])
    page.get_by_role("button", name="Buscar").click()
    skus = page.locator("#resultados tbody td[data-label=SKU]")
    expect(skus).to_have_count(25)
    expect(skus.first).to_have_text("CAT-001")
    expect(page.locator("tr.low")).to_have_count(3)  # 7, 14, 21
    expect(page.get_by_role("link", name="← Anterior")).to_have_count(0)

    page.get_by_role("link", name="Última »").click()
    expect(page).to_have_url(re.compile(r"ultima=1"))
    assert skus.all_inner_texts() == [f"CAT-{n:03d}" for n in range(36, 61)]  # the last 25, whatever the count
    expect(page.get_by_role("link", name="Siguiente →")).to_have_count(0)
    page.get_by_role("link", name="← Anterior").click()
    assert skus.all_inner_texts() == [f"CAT-{n:03d}" for n in range(11, 36)]
    page.get_by_role("link", name="Siguiente →").click()
    expect(skus.first).to_have_text("CAT-036")
    page.get_by_role("link", name="« Primera").click()
    expect(skus.first).to_have_text("CAT-001")

    # the supplier filter now works on a store's stock too
    page.get_by_label("Proveedor").select_option(label="Piensos Sur")
    page.get_by_role("button", name="Buscar").click()
    expect(page).to_have_url(re.compile(r"proveedor=\d+"))
    expect(skus).to_have_count(25)
    assert all(int(sku[-3:]) % 2 == 0 for sku in skus.all_inner_texts())
    check(page, "productos-proveedor")

    # on a phone a product is two short lines, not a tall card
    page.set_viewport_size(PHONE)
    row_height = page.locator("#resultados tbody tr").first.bounding_box()["height"]
    assert row_height < 110, f"a stock row is {row_height:.0f} px tall on a phone"  # a card per row was ~240
    expect(page.locator("#resultados tbody td[data-label=Proveedor]").first).to_be_hidden()


def test_a_sale_is_recorded_and_more_units_than_in_stock_are_refused_in_spanish(page, person, api_admin):  # noqa: F811
    clerk = person("empleado")
    store = new_store(api_admin, "Tienda Ventas")
    stocked(clerk, store, "VEN-001", name="Collar rojo", quantity=5, price="8.00")
    log_in(page, clerk)
    open_from_menu(page, "Ventas")
    page.get_by_label("Tienda", exact=True).select_option(label=store["name"])
    page.get_by_label("Producto (nombre o SKU)").fill("collar")
    page.get_by_role("button", name="Buscar").click()
    expect(page.get_by_text("5 en stock")).to_be_visible()
    page.get_by_label("Unidades").fill("2")
    page.get_by_role("button", name="Vender Collar rojo").click()
    expect(page.get_by_role("status")).to_have_text("Venta registrada: 2 × VEN-001 a 8,00 € = 16,00 €.")
    sales = page.locator("table.sales-list tbody tr")
    expect(sales).to_have_count(1)
    expect(sales.first).to_contain_text("16,00 €")
    check(page, "ventas")

    page.get_by_label("Producto (nombre o SKU)").fill("VEN-001")
    page.get_by_role("button", name="Buscar").click()
    expect(page.get_by_text("3 en stock")).to_be_visible()
    page.get_by_label("Unidades").fill("9")
    page.get_by_role("button", name="Vender Collar rojo").click()
    expect(page.get_by_role("alert")).to_have_text("Solo quedan 3 unidades de VEN-001 y la venta pide 9.")
    check(page, "ventas-sin-stock")
    assert clerk.api.get("petshop", f"/tiendas/{store['id']}/stock/").json()[0]["quantity"] == 3


def test_a_percentage_by_category_is_previewed_old_to_new_then_applied(page, person, api_admin, console_stack):  # noqa: F811
    clerk = person("empleado")
    store = new_store(api_admin, "Tienda Precios")
    toys = clerk.api.post("petshop", "/categorias/", json={"name": f"Juguetes {secrets.token_hex(2)}"}).json()
    stocked(clerk, store, f"PRE-{secrets.token_hex(2)}", name="Pelota", quantity=4, price="10.00", category_id=toys["id"])
    stocked(clerk, store, f"PRE-{secrets.token_hex(2)}", name="Hueso", quantity=4, price="3.00")
    ensure_worker(console_stack)
    log_in(page, clerk)
    open_from_menu(page, "Precios")
    page.get_by_label("Tienda", exact=True).select_option(label=store["name"])
    page.get_by_label("Porcentaje (5 sube un 5 %, -10 baja un 10 %)").fill("-10")
    page.get_by_role("button", name="Ver qué cambia").click()
    expect(page.get_by_role("alert")).to_have_text("Elige una categoría o un proveedor (uno de los dos) para aplicar el porcentaje.")
    page.get_by_label("Categoría", exact=True).select_option(label=toys["name"])
    page.get_by_role("button", name="Ver qué cambia").click()
    expect(page.get_by_role("heading", name="Vista previa: 1 producto cambia de precio")).to_be_visible()
    change = page.locator("table.price-changes tbody tr")
    expect(change).to_have_count(1)
    expect(change.first).to_contain_text("Pelota")
    expect(change.first.locator("td[data-label=Ahora]")).to_have_text("10,00 €")
    expect(change.first.locator("td[data-label=Nuevo]")).to_have_text("9,00 €")
    check(page, "precios-vista-previa")
    prices = {i["product"]["name"]: i["price"] for i in clerk.api.get("petshop", f"/tiendas/{store['id']}/stock/").json()}
    assert prices == {"Pelota": "10.00", "Hueso": "3.00"}  # a preview writes nothing

    page.get_by_role("button", name="Aplicar el precio nuevo").click()
    expect(page.get_by_role("heading", name="Precios cambiados")).to_be_visible(timeout=120_000)
    expect(page.get_by_role("list", name="Resumen")).to_contain_text("1 cambiados")
    check(page, "precios-resultado")
    prices = {i["product"]["name"]: Decimal(i["price"]) for i in clerk.api.get("petshop", f"/tiendas/{store['id']}/stock/").json()}
    assert prices == {"Pelota": Decimal("9.00"), "Hueso": Decimal("3.00")}


def test_a_sales_report_runs_shows_its_figures_and_chart_and_downloads(page, person, api_admin, console_stack):  # noqa: F811
    clerk = person("empleado")
    store = new_store(api_admin, "Tienda Informes")
    stocked(clerk, store, f"INF-{secrets.token_hex(2)}", name="Arena", quantity=20, price="4.25")
    sku = clerk.api.get("petshop", f"/tiendas/{store['id']}/stock/").json()[0]["product"]["sku"]
    for sold_at, quantity in (("2026-03-02T10:00:00Z", 2), ("2026-03-04T10:00:00Z", 4)):
        sold = clerk.api.post("petshop", f"/tiendas/{store['id']}/ventas/", json={"lines": [{"sku": sku, "quantity": quantity}],
                                                                                  "sold_at": sold_at})
        assert sold.status_code == 201, sold.text
    ensure_worker(console_stack)
    log_in(page, clerk)
    open_from_menu(page, "Informes")
    check(page, "informes")
    page.get_by_label("Tienda", exact=True).select_option(label=store["name"])
    page.get_by_label("Resumen de ventas").check()
    page.get_by_label("Desde").fill("2026-03-05")
    page.get_by_label("Hasta").fill("2026-03-01")
    page.get_by_role("button", name="Generar el informe").click()
    expect(page.get_by_role("alert")).to_contain_text("posterior a la de fin")  # petshop's words

    page.get_by_label("Desde").fill("2026-03-01")
    page.get_by_label("Hasta").fill("2026-03-07")
    page.get_by_role("button", name="Generar el informe").click()
    expect(page.get_by_role("heading", name=re.compile("Resumen de ventas"))).to_be_visible(timeout=120_000)
    figures = page.get_by_role("list", name="Cifras")
    expect(figures).to_contain_text("25,50 € ingresos")
    expect(figures).to_contain_text("6 unidades vendidas")
    expect(page.locator(".chart canvas")).to_have_count(1)  # uPlot drew the revenue per day
    expect(page.locator("table.report-table tbody tr").first).to_contain_text("25,50 €")
    check(page, "informe-ventas")

    with page.expect_download() as download:
        page.get_by_role("link", name="Descargar Excel (XLSX)").click()
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"  # a zip: an XLSX workbook
    with page.expect_download() as download:
        page.get_by_role("link", name="Descargar CSV").click()
    assert sku in Path(download.value.path()).read_text(encoding="utf-8-sig")


def test_an_admin_creates_an_account_changes_its_role_and_deactivates_it(page, console_stack):  # noqa: F811
    admin = Person(console_stack, {"username": "admin", "role": "admin"}, console_stack.admin_password)
    username, password = f"nueva-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    log_in(page, admin)
    open_from_menu(page, "Usuarios")
    page.get_by_text("Crear una cuenta").click()
    page.get_by_label("Usuario", exact=True).fill(username)
    page.get_by_label("Nombre", exact=True).fill("Marta Caja")
    page.get_by_label("Contraseña (10 caracteres o más)").fill("corta")
    page.evaluate("document.querySelector('#nuevo-clave').removeAttribute('minlength')")  # let auth say it
    page.get_by_role("button", name="Crear la cuenta").click()
    expect(page.get_by_role("alert")).to_contain_text("«Contraseña»")
    page.get_by_label("Contraseña (10 caracteres o más)").fill(password)
    page.get_by_role("button", name="Crear la cuenta").click()
    expect(page.get_by_role("status")).to_have_text(f"Cuenta «{username}» creada con el rol Tienda.")
    check(page, "usuarios")

    page.get_by_label(f"Rol de {username}", exact=True).select_option(label="Clínica")
    page.get_by_role("button", name=f"Cambiar el rol de {username}").click()
    expect(page.get_by_role("status")).to_have_text(f"«{username}» tiene ahora el rol Clínica.")
    page.get_by_role("button", name=f"Desactivar a {username}").click()
    expect(page.get_by_role("status")).to_have_text(f"«{username}» está desactivada: ya no puede entrar.")
    expect(page.get_by_role("button", name=f"Reactivar a {username}")).to_be_visible()
    refused = httpx.post(f"{console_stack.url('auth')}/token", data={"username": username, "password": password}, timeout=10)
    assert refused.status_code in (401, 403), refused.text

    # an admin cannot lock themselves out: auth's refusal is shown on the page
    page.get_by_role("button", name="Desactivar a admin").click()
    expect(page.get_by_role("alert")).to_contain_text("No puedes desactivar tu propia cuenta")


# noted in the page on every DOM change while an import applies: its percentage and its rows-per-second line
WATCH_PROGRESS = """() => {
  window.__progress = [];
  const note = () => {
    const figure = document.querySelector('#importacion .progress-figure');
    const rate = document.querySelector('#importacion .live-rate');
    const seen = [figure ? figure.textContent.trim() : null, rate ? rate.textContent.trim() : null];
    const last = window.__progress[window.__progress.length - 1];
    if (seen[0] && (!last || last[0] !== seen[0] || last[1] !== seen[1])) window.__progress.push(seen);
  };
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
  note();
}"""


def test_while_an_import_applies_its_bar_shows_a_live_percentage_and_rows_per_second(
        page, person, api_admin, browser, console_stack):  # noqa: F811
    clerk = person("empleado")
    store = new_store(api_admin, "Tienda Progreso")
    rows = 300_000  # a few seconds of reading on a worker: several progress reports, each polled by the page
    big = ("SKU,Nombre,Stock,Precio\n" + "".join(f"P{n},Pienso {n},{n % 40},{n % 90 + 1}.5\n" for n in range(rows))).encode()
    ensure_worker(console_stack)
    log_in(page, clerk)
    open_from_menu(page, "Importar inventario")
    page.get_by_label("Tienda", exact=True).select_option(label=store["name"])
    page.get_by_label("Archivo", exact=True).set_input_files({"name": "grande.csv", "mimeType": "text/csv", "buffer": big})
    page.get_by_role("button", name="Ver la vista previa").click()
    expect(page.get_by_role("heading", name="Vista previa de la importación")).to_be_visible(timeout=300_000)
    expect(page.get_by_role("list", name="Resumen")).to_contain_text(f"{rows} nuevos")

    # a second tab of the same clerk in a browser without EventSource: the same page, kept fresh by the poll
    context = browser.new_context(base_url=console_stack.url("console"), viewport=DESKTOP, locale="es-ES")
    context.add_init_script("delete window.EventSource;")
    old_browser = context.new_page()
    log_in(old_browser, clerk)
    asked, old_asked = [], []  # each tab's requests for the status block: the pushed stream, or a poll
    for tab, into in ((page, asked), (old_browser, old_asked)):
        tab.on("request", lambda request, into=into: into.append(request.url.rsplit("/", 1)[-1])
               if re.search(r"/tienda/importar/[^/]+/(eventos|estado)$", request.url) else None)
    page.get_by_role("button", name="Aplicar la importación").click()
    expect(page.locator("#importacion progress")).to_be_visible()
    page.evaluate(WATCH_PROGRESS)
    old_browser.goto(page.url)
    expect(page.get_by_role("heading", name="Importación terminada")).to_be_visible(timeout=300_000)
    # the server pushed every change down one stream; the 1 s poll (the fallback) never had to ask
    assert asked == ["eventos"], asked
    expect(old_browser.get_by_role("heading", name="Importación terminada")).to_be_visible(timeout=30_000)
    assert "estado" in old_asked and "eventos" not in old_asked, old_asked
    context.close()

    seen = page.evaluate("window.__progress")
    percentages = [int(figure.rstrip(" %")) for figure, _rate in seen]
    running = [p for p in percentages if 0 < p < 100]
    assert len(set(running)) >= 2, f"the bar should move through several values while applying: {seen}"
    assert running == sorted(running), seen  # it only goes forward
    rates = [rate for _figure, rate in seen if rate and "filas por segundo" in rate]
    assert len(set(rates)) >= 2, f"rows per second should be shown and updated: {seen}"
    for rate in rates:
        done, total, per_second = (int(n) for n in re.findall(r"\d+", rate.replace(".", "")))
        assert 0 < done <= total == rows and per_second > 0, rate
    expect(page.get_by_role("list", name="Resumen")).to_contain_text(f"{rows} creados")
    check(page, "importar-terminada-grande")
