"""The web console in a real headless Chromium (Debian's `chromium`, driven by Playwright) against the real stack.

One stack (auth, veterinaria, petshop, the console; a worker only when a story needs one) and one
browser for the whole module. Every page a story reaches is screenshotted at desktop and phone size
into var/screenshots/ (git-ignored) and checked with the vendored axe-core: no serious or critical
violation, and no sideways scrolling on the phone.

Runs in the SQLite pass of `make test` only: the console has no database of its own, and the
services' database behaviour is covered by their API tests on both databases.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

import httpx
import jwt
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser_helpers import (
    CHROMIUM,
    DESKTOP,
    MENUS,
    Person,
    check_page,
    console_stack_for,
    ensure_worker,
    log_in,
    menu,
    open_from_menu,
    session_cookie,
)
from tests.conftest import Client, login


@pytest.fixture(scope="module", autouse=True)
def sqlite_pass_only(database_kind):
    if database_kind == "postgresql":
        pytest.skip("browser stories run in the SQLite pass only: the console has no database, "
                    "and the services' database behaviour is tested on both by the API tests")


@pytest.fixture(scope="module")
def console_stack(request, work_dir, new_database_url, redis_server):
    # a module that sets SHARED_CONSOLE_STACK uses the session's shared console stack (conftest);
    # any other gets a stack of its own: its own folder, database (a second stack on the first one's
    # database would find its admin with the first one's password) and Redis database (no other
    # stack's worker takes its jobs), from CONSOLE_REDIS_DB
    if getattr(request.module, "SHARED_CONSOLE_STACK", False):
        yield request.getfixturevalue("shared_console_stack")
        return
    name = request.module.__name__.rsplit(".", 1)[-1]
    redis_db = getattr(request.module, "CONSOLE_REDIS_DB", 5)
    running = console_stack_for(work_dir / name, database_url=new_database_url(f"timon_{name}"),
                                redis_url=f"redis://127.0.0.1:{redis_server.port}/{redis_db}")
    try:
        running.start(workers=0)  # the jobs story starts its worker once its job is queued
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def api_admin(console_stack) -> Client:
    return Client(console_stack, login(console_stack, "admin", console_stack.admin_password))


@pytest.fixture(scope="module")
def person(console_stack, api_admin):
    """Create a user with a role (and a full name) through the admin API."""

    def make(role: str, full_name: str = "") -> Person:
        username, password = f"{role}-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
        response = api_admin.post("auth", "/users/", json={"username": username, "password": password, "role": role,
                                                             "full_name": full_name})
        assert response.status_code == 201, response.text
        return Person(console_stack, response.json(), password)

    return make


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (or apt-get install chromium)")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, console_stack):
    # bypass_csp: axe-core is injected as an inline script, which the console's CSP forbids
    context = browser.new_context(base_url=console_stack.url("console"), viewport=DESKTOP, locale="es-ES", bypass_csp=True)
    tab = context.new_page()
    yield tab
    context.close()


# --- login, menus, roles --------------------------------------------------------------------------


def test_each_role_logs_in_and_sees_only_its_own_menu(page, person, console_stack):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Iniciar sesión")).to_be_visible()
    check_page(page, "login")

    admin = Person(console_stack, {"username": "admin", "role": "admin"}, console_stack.admin_password)
    for who in (admin, person("empleado", "Pablo Tienda"), person("veterinario", "Lucía Vet"), person("cliente")):
        log_in(page, who)
        assert menu(page) == MENUS[who.role], who.role
        # keyboard: the first Tab reaches the skip link, and it moves focus to the page's content
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Saltar al contenido")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("main#contenido")).to_be_focused()
        check_page(page, f"inicio-{who.role}")
        page.reload()  # the session survives a reload
        assert menu(page) == MENUS[who.role]
        page.get_by_role("button", name="Cerrar sesión").click()
        expect(page.get_by_role("status")).to_have_text("Has cerrado la sesión.")
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/login$"))  # logged out means logged out


def test_a_wrong_password_is_told_in_spanish_on_the_login_page(page, person):
    clerk = person("empleado")
    page.goto("/login")
    page.get_by_label("Usuario").fill(clerk.username)
    page.get_by_label("Contraseña").fill("no-es-la-clave")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("alert")).to_have_text("Usuario o contraseña incorrectos.")
    expect(page.get_by_label("Usuario")).to_have_value(clerk.username)
    check_page(page, "login-error")


def test_a_page_outside_the_role_is_a_spanish_403(page, person):
    log_in(page, person("empleado"))
    response = page.goto("/mascotas")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Acceso no permitido")).to_be_visible()
    expect(page.get_by_text("Tu rol no permite abrir «Mascotas»")).to_be_visible()
    assert menu(page) == MENUS["empleado"]
    check_page(page, "prohibido")


def test_a_form_without_the_session_csrf_token_is_refused(page, person, console_stack):
    log_in(page, person("empleado"))
    forged = page.request.post(f"{console_stack.url('console')}/logout", form={"csrf_token": "forged"}, max_redirects=0)
    assert forged.status == 403 and "Formulario caducado" in forged.text()
    page.goto("/")
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()  # still logged in


# --- an expired session -------------------------------------------------------------------------


def test_a_session_whose_token_expired_goes_back_to_login_with_a_message(page, person, console_stack):
    vet = person("veterinario")
    now = time.time()
    expired = jwt.encode(
        {"sub": str(vet.user["id"]), "username": vet.username, "role": "veterinario", "iss": "timon-auth",
         "iat": int(now) - 3700, "exp": int(now) - 100},
        console_stack.env["JWT_SECRET"], algorithm="HS256",
    )
    # the console believes the session is still good: the service's 401 is what ends it
    page.context.add_cookies([session_cookie(console_stack, token=expired, expires_at=now + 3600, user=vet.user)])
    page.goto("/mascotas")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fmascotas$"))
    expect(page.get_by_role("status")).to_have_text("Tu sesión ha caducado: vuelve a iniciar sesión.")
    check_page(page, "sesion-caducada")

    # logging in again goes back where the user was
    page.get_by_label("Usuario").fill(vet.username)
    page.get_by_label("Contraseña").fill(vet.password)
    page.get_by_role("button", name="Entrar").click()
    expect(page).to_have_url(re.compile(r"/mascotas$"))

    # and a session past its own expiry ends without asking the services
    page.context.clear_cookies()
    page.context.add_cookies([session_cookie(console_stack, token=expired, expires_at=now - 1, user=vet.user)])
    page.goto("/")
    expect(page.get_by_role("status")).to_have_text("Tu sesión ha caducado: vuelve a iniciar sesión.")

    # an htmx refresh (the jobs table) with an expired session navigates to the login instead of swapping it in
    page.context.add_cookies([session_cookie(console_stack, token=expired, expires_at=now + 3600, user=vet.user)])
    refresh = page.request.get(f"{console_stack.url('console')}/trabajos/tabla", headers={
        "HX-Request": "true", "HX-Current-URL": f"{console_stack.url('console')}/trabajos"})
    assert refresh.status == 204 and refresh.headers["hx-redirect"] == "/login?next=%2Ftrabajos"


# --- pets ---------------------------------------------------------------------------------------


def _owner_with_pet(api_admin: Client, *, owner_name: str, pet_name: str, user_id: int | None = None) -> dict:
    owner = api_admin.post("veterinaria", "/propietarios/", json={"full_name": owner_name, "user_id": user_id})
    assert owner.status_code == 201, owner.text
    pet = api_admin.post("veterinaria", "/mascotas/", json={"name": pet_name, "species": "perro", "owner_id": owner.json()["id"]})
    assert pet.status_code == 201, pet.text
    return pet.json()


def test_a_cliente_sees_their_pets_and_cannot_reach_another_owners_by_editing_the_url(page, person, api_admin):
    ana, bruno = person("cliente", "Ana Cliente"), person("cliente", "Bruno Cliente")
    luna = _owner_with_pet(api_admin, owner_name="Ana Cliente", pet_name="Luna", user_id=ana.user["id"])
    rocky = _owner_with_pet(api_admin, owner_name="Bruno Cliente", pet_name="Rocky", user_id=bruno.user["id"])
    visit = person("veterinario", "Lucía Vet").api.post("veterinaria", f"/mascotas/{luna['id']}/consultas/", json={
        "reason": "Cojera en la pata trasera izquierda", "diagnosis": "Esguince leve",
        "treatment": "Meloxicam 0,1 mg/kg durante 5 días y reposo", "weight_kg": "12.4"})
    assert visit.status_code == 201, visit.text

    log_in(page, ana)
    open_from_menu(page, "Mis mascotas")
    expect(page.get_by_role("heading", name="Mis mascotas", level=1)).to_be_visible()
    names = page.locator("#resultados tbody tr td:first-child").all_inner_texts()
    assert names == ["Luna"]
    check_page(page, "mis-mascotas")

    page.get_by_role("link", name="Luna").click()
    expect(page.get_by_role("heading", name="Luna", level=1)).to_be_visible()
    visit = page.locator(".timeline-item.consulta")
    expect(visit).to_contain_text("Esguince leve")
    expect(visit).to_contain_text("12,4 kg")
    check_page(page, "mascota")
    assert f"/mascotas/{luna['id']}" in page.url

    response = page.goto(f"/mascotas/{rocky['id']}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="No encontrado")).to_be_visible()
    expect(page.get_by_text("Rocky")).to_have_count(0)
    check_page(page, "mascota-ajena")


def test_a_vet_finds_a_pet_without_typing_its_accents(page, person, api_admin):
    _owner_with_pet(api_admin, owner_name="Marta Núñez", pet_name="Lucía")
    _owner_with_pet(api_admin, owner_name="Marta Núñez", pet_name="Tobías")
    log_in(page, person("veterinario"))
    open_from_menu(page, "Mascotas")
    page.get_by_label("Nombre de la mascota").fill("LUCIA")
    page.get_by_role("button", name="Buscar").click()
    expect(page).to_have_url(re.compile(r"q=LUCIA"))
    rows = page.locator("#resultados tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Lucía")
    expect(rows.first).to_contain_text("Marta Núñez")
    check_page(page, "mascotas-busqueda")


# --- products and stock -------------------------------------------------------------------------


def settled(row) -> None:
    """Wait until htmx has settled a swapped-in form (20 ms after the swap).

    On settling htmx focuses the form's autofocus field («Unidades») again: keys typed before that
    go there ("0" typed into «Precio» became units "02", and the price stayed 17,50).
    """
    expect(row).to_be_visible()
    expect(row).not_to_have_class(re.compile(r"\bhtmx-added\b"))


def test_shop_staff_search_filter_and_page_through_a_stores_stock(page, person, api_admin):
    clerk = person("empleado")
    store = api_admin.post("petshop", "/tiendas/", json={"name": "Tienda Centro"}).json()
    food = clerk.api.post("petshop", "/categorias/", json={"name": "Alimentación"}).json()
    toys = clerk.api.post("petshop", "/categorias/", json={"name": "Juguetes"}).json()
    acme = clerk.api.post("petshop", "/proveedores/", json={"name": "Piensos Acme"}).json()
    other = clerk.api.post("petshop", "/proveedores/", json={"name": "Juguetes Sur"}).json()
    for n in range(1, 31):  # 30 foods, three of them at or below their minimum
        sku = f"PIENSO-{n:03d}"
        created = clerk.api.post("petshop", "/productos/", json={"sku": sku, "name": f"Pienso perro {n} kg",
                                                                 "category_id": food["id"], "supplier_id": acme["id"]})
        assert created.status_code == 201, created.text
        stock = {"quantity": 2 if n in (4, 17, 29) else 40, "min_stock": 5, "price": f"{n}.50"}
        assert clerk.api.request("PUT", "petshop", f"/tiendas/{store['id']}/stock/{sku}", json=stock).status_code == 200
    for n in (1, 2):
        clerk.api.post("petshop", "/productos/", json={"sku": f"PELOTA-{n}", "name": f"Pelota {n}",
                                                       "category_id": toys["id"], "supplier_id": other["id"]})
        clerk.api.request("PUT", "petshop", f"/tiendas/{store['id']}/stock/PELOTA-{n}",
                          json={"quantity": 10, "min_stock": 1, "price": "3.00"})

    log_in(page, clerk)
    open_from_menu(page, "Productos y stock")
    expect(page.get_by_label("Tienda")).to_have_value(str(store["id"]))
    rows = page.locator("#resultados tbody tr")
    expect(rows).to_have_count(25)
    expect(page.locator("tr.low")).to_have_count(2)  # PIENSO-004 and -017 on the first page (sorted by SKU or name)
    expect(page.locator("tr.low").first).to_contain_text("Stock bajo")
    check_page(page, "productos")

    page.get_by_role("link", name="Siguiente →").click()
    expect(rows).to_have_count(7)
    expect(page.get_by_role("link", name="← Anterior")).to_be_visible()
    check_page(page, "productos-pagina-2")

    page.get_by_label("Nombre o SKU").fill("pienso-017")
    page.get_by_role("button", name="Buscar").click()
    expect(page).to_have_url(re.compile(r"q=pienso-017"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Pienso perro 17 kg")
    expect(rows.first).to_contain_text("17,50 €")
    expect(rows.first).to_contain_text("Stock bajo")

    # stock edited in place: the row becomes a form, and saving it swaps the updated row back
    page.get_by_role("button", name="Editar el stock de PIENSO-017").click()
    settled(page.locator("tr.editing"))
    page.get_by_label("Precio (€)").fill("0")  # the browser lets it through; the API refuses it
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("alert")).to_have_text("«Precio» debe ser mayor que 0")  # the API's reason, in the form's words
    check_page(page, "productos-editar")
    settled(page.locator("tr.editing"))
    page.get_by_label("Unidades").fill("60")
    page.get_by_label("Precio (€)").fill("18,25")
    page.get_by_role("button", name="Guardar").click()
    expect(rows.first).to_contain_text("60")
    expect(rows.first).to_contain_text("18,25 €")
    expect(rows.first).not_to_contain_text("Stock bajo")
    saved = clerk.api.get("petshop", f"/tiendas/{store['id']}/stock/", params={"q": "PIENSO-017"}).json()[0]
    assert (saved["quantity"], saved["min_stock"], saved["price"]) == (60, 5, "18.25")

    page.get_by_label("Nombre o SKU").fill("")
    page.get_by_label("Solo stock bajo").check()
    page.get_by_role("button", name="Buscar").click()
    expect(page).to_have_url(re.compile(r"bajo=1"))
    expect(rows).to_have_count(2)  # PIENSO-017 is no longer low
    assert sorted(page.locator("#resultados tbody td[data-label=SKU]").all_inner_texts()) == ["PIENSO-004", "PIENSO-029"]

    page.get_by_label("Tienda").select_option(label="Catálogo (sin stock)")
    page.get_by_role("button", name="Buscar").click()
    expect(page.get_by_label("Proveedor")).to_be_visible()
    page.get_by_label("Proveedor").select_option(label="Juguetes Sur")
    page.get_by_role("button", name="Buscar").click()
    expect(page).to_have_url(re.compile(rf"proveedor={other['id']}"))
    expect(rows).to_have_count(2)
    assert page.locator("#resultados tbody td[data-label=SKU]").all_inner_texts() == ["PELOTA-1", "PELOTA-2"]
    check_page(page, "catalogo-proveedor")


# --- jobs ---------------------------------------------------------------------------------------


def test_the_jobs_page_follows_a_job_until_a_worker_completes_it(page, person, api_admin, console_stack):
    clerk = person("empleado", "Pablo Tienda")
    store = api_admin.post("petshop", "/tiendas/", json={"name": "Tienda Norte"}).json()
    submitted = clerk.api.post("petshop", "/upload-inventario/", data={"store_id": str(store["id"]), "dry_run": "true"},
                               files={"file": ("stock.csv", b"SKU,Nombre,Stock,Precio\nA-1,Arena,3,4.50\nA-2,Pienso,2,9\n")})
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["task_id"]

    log_in(page, clerk)
    open_from_menu(page, "Trabajos")
    row = page.locator(f"tr[data-job-id='{job_id}']")
    expect(row).to_contain_text("Importación de inventario")
    expect(row).to_contain_text("En cola")  # no worker is running yet
    expect(page.locator("#trabajos")).to_have_attribute("hx-trigger", "every 1s")
    expect(page.locator("#trabajos .summary")).to_have_text("1 en curso · 1 en la lista")
    check_page(page, "trabajos-en-cola")

    ensure_worker(console_stack)
    # no reload: htmx refreshes the table while the job is active
    expect(row.locator(".badge")).to_have_text("Completado", timeout=120_000)
    expect(row.locator("progress")).to_have_attribute("value", "100")
    expect(page.locator("#trabajos")).not_to_have_attribute("hx-trigger", re.compile(".*"))  # polling stops
    expect(page.locator("#trabajos .summary")).to_have_text("Ningún trabajo en curso · 1 en la lista")
    check_page(page, "trabajos-completado")

    # an admin sees everyone's jobs, with whose they are
    page.get_by_role("button", name="Cerrar sesión").click()
    log_in(page, Person(console_stack, {"username": "admin", "role": "admin"}, console_stack.admin_password), path="/trabajos")
    expect(page.locator(f"tr[data-job-id='{job_id}'] td[data-label=Usuario]")).to_have_text(clerk.username)
    check_page(page, "trabajos-admin")


# --- import ---------------------------------------------------------------------------------------

MESSY_FILE = (
    "Inventario de Distribuciones Sur;;;;\n"
    ";;;;\n"
    "Código;Descripción;Cantidad;PVP;Color\n"
    "IMP-001;Arena aglomerante 10 kg;12;7,95;gris\n"
    "IMP-002;Pienso gato adulto;4;15,50;\n"
    "IMP-003;Rascador;1;29,00;beige\n"
    ";Sin código;3;2,00;\n"
    "IMP-005;Comedero;dos;4,00;\n"
).encode("cp1252")


def test_an_import_is_previewed_then_applied_and_its_failed_rows_downloaded(page, person, api_admin, console_stack):
    clerk = person("empleado")
    store = api_admin.post("petshop", "/tiendas/", json={"name": "Tienda Importación"}).json()
    ensure_worker(console_stack)
    log_in(page, clerk)
    open_from_menu(page, "Importar inventario")
    check_page(page, "importar")
    page.get_by_label("Tienda").select_option(label="Tienda Importación")
    page.get_by_label("Archivo").set_input_files(files=[{"name": "proveedor.csv", "mimeType": "text/csv", "buffer": MESSY_FILE}])
    page.get_by_role("button", name="Ver la vista previa").click()

    expect(page.get_by_role("heading", name="Vista previa de la importación")).to_be_visible(timeout=120_000)
    counts = page.get_by_role("list", name="Resumen")
    expect(counts).to_contain_text("3 nuevos")
    expect(counts).to_contain_text("2 con errores")
    columns = dict(zip(page.locator("#importacion table").first.locator("td[data-label=Dato]").all_inner_texts(),
                       page.locator("#importacion table").first.locator("td[data-label=Columna]").all_inner_texts()))
    assert columns["SKU"] == "Código" and columns["Nombre"] == "Descripción" and columns["Precio"] == "PVP"
    expect(page.get_by_text("Columnas que no se usan: Color")).to_be_visible()
    expect(page.locator("table.errors tbody tr")).to_have_count(2)
    check_page(page, "importar-vista-previa")
    preview_url = page.url
    # a dry run writes nothing
    assert clerk.api.get("petshop", f"/tiendas/{store['id']}/stock/").json() == []

    page.get_by_role("button", name="Aplicar la importación").click()
    expect(page.get_by_role("heading", name="Importación terminada")).to_be_visible(timeout=120_000)
    expect(page.get_by_role("list", name="Resumen")).to_contain_text("3 creados")
    expect(page.get_by_text("filas por segundo")).to_be_visible()
    check_page(page, "importar-resultado")
    stock = {item["product"]["sku"]: item["quantity"] for item in clerk.api.get("petshop", f"/tiendas/{store['id']}/stock/").json()}
    assert stock == {"IMP-001": 12, "IMP-002": 4, "IMP-003": 1}

    with page.expect_download() as download:
        page.get_by_role("link", name="Descargar errores.csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "IMP-005" in text and len(text.strip().splitlines()) == 3  # header and two failed rows

    # the same preview cannot be applied twice (with a valid form, from the same session)
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    again = page.request.post(f"{preview_url}/aplicar", form={"csrf_token": csrf}, max_redirects=0)
    assert again.status == 409 and "Vista previa caducada" in again.text()


def test_the_console_is_up_with_its_own_health(console_stack):
    assert httpx.get(f"{console_stack.url('console')}/health", timeout=5).json() == {"status": "ok"}
    assert os.environ.get("TEST_DATABASE", "sqlite") != "postgresql"
