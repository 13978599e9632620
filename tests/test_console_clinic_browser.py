"""The console's clinic (issue #9, vets and owners) in a real headless Chromium against the real stack.

Stories: a vet uploads two documents at once, follows each one's progress, opens the result (page
image beside the text, fields, the pet or the candidates), corrects the text and finds the
correction by search with the words marked; a pet's timeline and charts; its medical report; and a
cliente who cannot reach another owner's pet or document by editing the URL.

Also: the upload form with JavaScript off (a plain multipart post, then a page per reading), a lab
value corrected and then found by search and drawn on the chart, a cliente's list of the vet's
reports about their pet (and a 404 for another owner's), and a long history paged 25 at a time.

The fixtures (stack, browser, people) are test_console_browser.py's; the stack is the session's
shared console stack. Every page reached is checked by check_page (axe-core, no sideways scroll,
screenshots) and at tablet size (1024×768) too.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser_helpers import DESKTOP, PHONE, SCREENSHOTS, check_page, ensure_worker, log_in, open_from_menu
from tests.conftest import Client
from tests.jobs_helpers import wait_for_status
from tests.test_console_browser import (  # noqa: F401 (fixtures)
    api_admin,
    browser,
    console_stack,
    page,
    person,
    sqlite_pass_only,
)
from tests.veterinaria.pages import render_page, write_image, write_pdf

SHARED_CONSOLE_STACK = True  # the session's console stack (tests/conftest.py), shared with the other such modules
TABLET = {"width": 1024, "height": 768}
A5_MM = (148, 210)


def check(tab, name: str) -> None:
    check_page(tab, name)
    tab.set_viewport_size(TABLET)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}-tableta.png"), full_page=True)
    overflow = tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 1024px"
    tab.set_viewport_size({"width": 1280, "height": 800})


def look_without_script(tab, name: str) -> None:
    """check_page without axe (it cannot run with JavaScript off; the same templates get it in the other stories)."""
    for size_name, size in (("escritorio", DESKTOP), ("movil", PHONE)):
        tab.set_viewport_size(size)
        tab.screenshot(path=str(SCREENSHOTS / f"{name}-{size_name}.png"), full_page=True)
        overflow = tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size['width']}px"
    tab.set_viewport_size(DESKTOP)


def _pet(api: Client, *, owner_name: str, pet_name: str, user_id: int | None = None) -> dict:
    owner = api.post("veterinaria", "/propietarios/", json={"full_name": owner_name, "user_id": user_id})
    assert owner.status_code == 201, owner.text
    pet = api.post("veterinaria", "/mascotas/", json={"name": pet_name, "species": "perro", "owner_id": owner.json()["id"]})
    assert pet.status_code == 201, pet.text
    return pet.json()


def _analysis(patient: str, owner: str, date: str, glucose: str) -> list[str]:
    return ["CLÍNICA VETERINARIA TIMÓN", "ANÁLISIS DE SANGRE - BIOQUÍMICA", f"Paciente: {patient}    Especie: Canino",
            f"Propietario: {owner}", f"Fecha: {date}", "Veterinario: Dra. Ana Martín",
            "Glucosa 95 mg/dL (70-110)".replace("95", glucose), "Creatinina 1,1 mg/dL (0,5-1,5)"]


def test_documents_uploaded_at_once_are_read_corrected_and_the_correction_found_by_search(
    page, person, api_admin, console_stack, tmp_path,  # noqa: F811
):
    canela = _pet(api_admin, owner_name="Marta Núñez", pet_name="Canela")
    toby_a = _pet(api_admin, owner_name="Jorge Pérez", pet_name="Toby")
    _pet(api_admin, owner_name="Lidia Sanz", pet_name="Toby")
    vet = person("veterinario", "Lucía Vet")
    for day, kg in (("2024-01-10", "20.50"), ("2024-03-02", "21.30")):
        visit = vet.api.post("veterinaria", f"/mascotas/{canela['id']}/consultas/",
                             json={"date": f"{day}T10:00:00Z", "reason": "Revisión", "weight_kg": kg})
        assert visit.status_code == 201, visit.text
    earlier = write_pdf(tmp_path / "anterior.pdf", [_analysis("Canela", "Marta Núñez", "12/12/2023", "88")])
    assert vet.api.post("veterinaria", "/historias-clinicas/", data={"mascota_id": str(canela["id"])},
                        files={"file": ("anterior.pdf", earlier.read_bytes())}).status_code == 202
    scan = write_image(tmp_path / "canela.png", render_page(_analysis("Canela", "Marta Núñez", "15/02/2024", "102"),
                                                             dpi=200, font_pt=9, size_mm=A5_MM), dpi=200)
    unsure = write_pdf(tmp_path / "toby.pdf", [_analysis("Toby", "Desconocido", "20/02/2024", "90")])
    ensure_worker(console_stack)

    log_in(page, vet)
    open_from_menu(page, "Subir documentos")
    expect(page.get_by_role("heading", name="Subir documentos")).to_be_visible()
    check(page, "documentos-subir")
    page.get_by_label("Archivos").set_input_files([str(scan), str(unsure)])
    page.get_by_role("button", name="Subir y leer").click()
    rows = page.locator("#lista-subidas li")
    expect(rows).to_have_count(2)
    for row in (rows.nth(0), rows.nth(1)):  # each its own progress, each ending with its result
        expect(row.get_by_role("link", name="Ver el documento")).to_be_visible(timeout=120_000)
        expect(row.locator("progress")).to_have_attribute("value", "100")
    expect(page.locator("li[data-file='canela.png']")).to_contain_text("leído y archivado")
    expect(page.locator("li[data-file='toby.pdf']")).to_contain_text("elige la mascota")
    check(page, "documentos-subidos")
    scan_url = page.locator("li[data-file='canela.png']").get_by_role("link", name="Ver el documento").get_attribute("href")

    # the match was not unique: the vet picks the pet among the candidates
    page.locator("li[data-file='toby.pdf']").get_by_role("link", name="Ver el documento").click()
    expect(page.get_by_role("group", name="Mascotas que encajan con «Toby»").get_by_role("radio")).to_have_count(2)
    check(page, "documento-candidatas")
    page.get_by_label(re.compile("Toby · canino · Jorge Pérez")).check()
    page.get_by_role("button", name="Asignar a esta mascota").click()
    expect(page.get_by_role("status")).to_have_text("Documento asignado a Toby.")
    assert vet.api.get("veterinaria", f"/mascotas/{toby_a['id']}/documentos/").json()[0]["file_name"] == "toby.pdf"

    # the scan: its page image beside the text read, and the fields found
    page.goto(scan_url)
    expect(page.get_by_role("heading", name="canela.png", level=1)).to_be_visible()
    image = page.get_by_role("img", name="Página 1 de canela.png")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 500", arg=image.element_handle())
    expect(page.locator("#texto-documento")).to_contain_text("Canela")
    facts = page.get_by_role("region", name="Datos encontrados")
    expect(facts).to_contain_text("Análisis")
    expect(facts).to_contain_text("15/02/2024")
    expect(facts).to_contain_text("Ana Martín")
    expect(facts.locator("td[data-label=Prueba]").first).to_have_text("Glucosa")
    expect(page.get_by_role("region", name="Mascota")).to_contain_text("En la historia de Canela")
    check(page, "documento")

    # a vet corrects the text and a field; the correction is what search finds
    text = page.get_by_label("Texto", exact=True)
    text.fill(text.input_value() + "\nLeishmaniosis: negativo. Revisión en diciembre.")
    page.get_by_label("Veterinario").fill("Dra. Ana Martín Ruiz")
    page.get_by_role("button", name="Guardar la corrección").click()
    expect(page.get_by_role("status")).to_contain_text("Corrección guardada")
    expect(page.locator("#texto-documento")).to_contain_text("Leishmaniosis: negativo")
    expect(page.get_by_role("region", name="Datos encontrados")).to_contain_text("Ana Martín Ruiz")
    expect(page.get_by_text("Texto original leído (antes de corregirlo)")).to_be_visible()
    check(page, "documento-corregido")

    open_from_menu(page, "Buscar en historias")
    page.get_by_label("Palabras").fill("LEISHMANIOSIS revision")
    page.get_by_role("button", name="Buscar").click()
    hits = page.locator("#resultados .hit")
    expect(hits).to_have_count(1)
    assert hits.first.locator("mark").all_inner_texts() == ["Leishmaniosis", "Revisión"]
    expect(hits.first.get_by_role("link", name="Canela")).to_be_visible()
    check(page, "buscar")

    # the pet's page: timeline newest first, weight and lab values as charts, and its report
    hits.first.get_by_role("link", name="Canela").click()
    expect(page.get_by_role("heading", name="Canela", level=1)).to_be_visible()
    entries = page.locator(".timeline-item .timeline-when time")
    expect(entries).to_have_count(4)  # two visits and her two documents (Toby's is not hers)
    assert entries.evaluate_all("els => els.map(e => e.getAttribute('datetime').slice(0, 10))") == [
        "2024-03-02", "2024-02-15", "2024-01-10", "2023-12-12"]
    expect(page.locator("figure.chart").first).to_contain_text("Peso (kg)")
    charts = page.locator("figure.chart").count()
    assert charts >= 3  # weight, glucose, creatinine
    expect(page.locator("figure.chart.drawn canvas")).to_have_count(charts)  # uPlot drew each one
    glucose = page.locator("figure.chart", has_text="Glucosa")
    glucose.get_by_text("Ver los valores").click()
    assert glucose.locator("td[data-label=Valor]").all_inner_texts() == ["88 mg/dL", "102 mg/dL"]
    check(page, "mascota-historia")

    page.get_by_role("button", name="Generar el informe médico (PDF)").click()
    expect(page.get_by_role("link", name="Abrir el PDF")).to_be_visible(timeout=120_000)
    check(page, "informe-medico")
    pdf = page.request.get(page.get_by_role("link", name="Abrir el PDF").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")


def test_a_cliente_sees_their_pets_documents_but_not_another_owners_by_editing_the_url(
    page, person, api_admin, console_stack, tmp_path,  # noqa: F811
):
    ana, bruno = person("cliente", "Ana Cliente"), person("cliente", "Bruno Cliente")
    luna = _pet(api_admin, owner_name="Ana Cliente", pet_name="Luna", user_id=ana.user["id"])
    rocky = _pet(api_admin, owner_name="Bruno Cliente", pet_name="Rocky", user_id=bruno.user["id"])
    ensure_worker(console_stack)
    accepted = {}
    for pet, name in ((luna, "luna.pdf"), (rocky, "rocky.pdf")):
        path = write_pdf(tmp_path / name, [_analysis(pet["name"], pet["owner"]["full_name"], "01/03/2024", "99")])
        accepted[name] = api_admin.post("veterinaria", "/historias-clinicas/", data={"mascota_id": str(pet["id"])},
                                        files={"file": (name, path.read_bytes())}).json()["status_url"]
    documents = {name: wait_for_status(api_admin, "veterinaria", url, timeout=120)["result"]["document_id"]
                 for name, url in accepted.items()}

    log_in(page, ana)
    open_from_menu(page, "Mis mascotas")
    page.get_by_role("link", name="Luna").click()
    page.get_by_role("link", name="luna.pdf").click()
    expect(page.get_by_role("img", name="Página 1 de luna.pdf")).to_be_visible()
    expect(page.get_by_role("heading", name="Corregir")).to_have_count(0)  # an owner reads, does not correct
    expect(page.get_by_role("button", name="Asignar a esta mascota")).to_have_count(0)
    check(page, "documento-cliente")

    for path in (f"/mascotas/{rocky['id']}", f"/documentos/{documents['rocky.pdf']}"):
        response = page.goto(path)
        assert response.status == 404, path
        expect(page.get_by_role("heading", name="No encontrado")).to_be_visible()
        expect(page.get_by_text("Rocky")).to_have_count(0)
    check(page, "documento-ajeno")
    assert page.request.get(f"/documentos/{documents['rocky.pdf']}/paginas/1").status == 404
    for path in ("/documentos/subir", "/buscar"):
        response = page.goto(path)
        assert response.status == 403, path
        expect(page.get_by_role("heading", name="Acceso no permitido")).to_be_visible()


def test_without_javascript_the_upload_is_a_plain_form_post_then_a_page_per_reading(
    browser, person, api_admin, console_stack, tmp_path,  # noqa: F811
):
    lola = _pet(api_admin, owner_name="Rosa Gil", pet_name="Lola")
    vet = person("veterinario", "Sin Script")
    ensure_worker(console_stack)
    files = [write_pdf(tmp_path / f"{name}.pdf", [_analysis("Lola", "Rosa Gil", date, glucose)])
             for name, date, glucose in (("lola-enero", "10/01/2024", "91"), ("lola-marzo", "10/03/2024", "97"))]
    context = browser.new_context(base_url=console_stack.url("console"), java_script_enabled=False, locale="es-ES",
                                  bypass_csp=True)
    tab = context.new_page()
    try:
        log_in(tab, vet, path=f"/documentos/subir?mascota={lola['id']}")
        tab.get_by_label("Archivos").set_input_files([str(f) for f in files])
        with tab.expect_response(lambda r: r.url.endswith("/documentos/subir") and r.request.method == "POST") as posted:
            tab.get_by_role("button", name="Subir y leer").click()
        assert "multipart/form-data" in posted.value.request.headers["content-type"]  # the browser's own form post
        expect(tab.get_by_role("heading", name="Documentos enviados")).to_be_visible()
        sent = tab.locator(".uploads li")
        expect(sent).to_have_count(2)
        assert [t.split(" ·")[0].strip() for t in sent.all_inner_texts()] == ["lola-enero.pdf", "lola-marzo.pdf"]
        # each reading's page refreshes itself (a <noscript> meta refresh) until the result is there
        look_without_script(tab, "documentos-enviados-sin-javascript")
        for follow in [sent.nth(n).get_by_role("link", name="seguir la lectura").get_attribute("href") for n in range(2)]:
            tab.goto(follow)
            expect(tab.get_by_role("link", name="Ver el documento")).to_be_visible(timeout=120_000)
            expect(tab.get_by_role("status")).to_contain_text("Archivado en la historia de su mascota")
        tab.get_by_role("link", name="Ver el documento").click()
        expect(tab.get_by_role("region", name="Mascota")).to_contain_text("En la historia de Lola")
        look_without_script(tab, "documentos-sin-javascript")
    finally:
        context.close()
    assert sorted(d["file_name"] for d in api_admin.get("veterinaria", f"/mascotas/{lola['id']}/documentos/").json()) == [
        "lola-enero.pdf", "lola-marzo.pdf"]


def test_a_corrected_lab_value_is_found_by_search_and_drawn_on_the_pets_chart(
    page, person, api_admin, console_stack, tmp_path,  # noqa: F811
):
    nico = _pet(api_admin, owner_name="Pilar Ortega", pet_name="Nico")
    vet = person("veterinario", "Corrige Valores")
    ensure_worker(console_stack)
    path = write_pdf(tmp_path / "nico.pdf", [_analysis("Nico", "Pilar Ortega", "05/04/2024", "95")])
    accepted = vet.api.post("veterinaria", "/historias-clinicas/", data={"mascota_id": str(nico["id"])},
                            files={"file": ("nico.pdf", path.read_bytes())}).json()
    document_id = wait_for_status(vet.api, "veterinaria", accepted["status_url"], timeout=120)["result"]["document_id"]

    log_in(page, vet, path=f"/documentos/{document_id}")
    row = page.locator("table.lab-values tr", has_text="Glucosa")
    row.get_by_text("Corregir Glucosa").click()
    row.get_by_label("Prueba").fill("Glucosa basal")
    row.get_by_label("Valor").fill("131,5")
    row.get_by_role("button", name="Guardar Glucosa").click()
    expect(page.get_by_role("status")).to_contain_text("Valor corregido")
    corrected = page.locator("table.lab-values tr", has_text="Glucosa basal")
    expect(corrected.locator("td[data-label=Valor]")).to_contain_text("131,5")
    expect(corrected).to_contain_text("leído: Glucosa 95 mg/dL")  # the reading stays beside the correction
    check(page, "documento-valor-corregido")
    # a number that is not one is refused in Spanish, and nothing changes
    corrected.get_by_text("Corregir Glucosa basal").click()
    corrected.get_by_label("Valor").fill("mucho")
    corrected.get_by_role("button", name="Guardar Glucosa basal").click()
    expect(page.get_by_role("alert")).to_contain_text("«mucho» no es un número")
    assert next(v for v in vet.api.get("veterinaria", f"/documentos/{document_id}").json()["lab_values"]
                if v["name"] == "Glucosa basal")["value"] == 131.5

    open_from_menu(page, "Buscar en historias")
    page.get_by_label("Palabras").fill("glucosa basal")
    page.get_by_role("button", name="Buscar").click()
    hits = page.locator("#resultados .hit")
    expect(hits).to_have_count(1)
    assert hits.first.locator("mark").all_inner_texts()[-2:] == ["Glucosa", "basal"]
    hits.first.get_by_role("link", name="Nico").click()
    chart = page.locator("figure.chart", has_text="Glucosa basal")
    expect(chart.locator("canvas")).to_have_count(1)
    chart.get_by_text("Ver los valores").click()
    assert chart.locator("td[data-label=Valor]").all_inner_texts() == ["131,5 mg/dL"]
    expect(page.locator(".lab-list", has_text="Glucosa basal")).to_contain_text("corregido")
    check(page, "mascota-valor-corregido")


def test_a_cliente_lists_and_opens_the_vets_reports_about_their_pet_but_not_another_owners(
    page, person, api_admin, console_stack,  # noqa: F811
):
    eva, hugo = person("cliente", "Eva Cliente"), person("cliente", "Hugo Cliente")
    nala = _pet(api_admin, owner_name="Eva Cliente", pet_name="Nala", user_id=eva.user["id"])
    thor = _pet(api_admin, owner_name="Hugo Cliente", pet_name="Thor", user_id=hugo.user["id"])
    vet = person("veterinario", "Irene Vet")
    ensure_worker(console_stack)
    made = {}
    for pet in (nala, thor):
        accepted = vet.api.post("veterinaria", f"/mascotas/{pet['id']}/reportes/").json()
        assert wait_for_status(vet.api, "veterinaria", accepted["status_url"], timeout=120)["status"] == "completed"
        made[pet["name"]] = accepted["task_id"]

    log_in(page, eva)
    open_from_menu(page, "Mis mascotas")
    page.get_by_role("link", name="Nala").click()
    reports = page.get_by_role("region", name="Informes médicos")
    link = reports.get_by_role("link", name=re.compile(r"^Informe del "))
    expect(link).to_have_count(1)
    expect(reports).to_contain_text(f"pedido por {vet.username}")
    check(page, "mascota-informes-cliente")
    pdf = page.request.get(link.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")

    # Thor's report, by editing the URL: under Thor, and under her own Nala
    for path in (f"/mascotas/{thor['id']}/informes/{made['Thor']}/pdf", f"/mascotas/{nala['id']}/informes/{made['Thor']}/pdf"):
        response = page.goto(path)
        assert response.status == 404, path
        expect(page.get_by_role("heading", name="No encontrado")).to_be_visible()
    check(page, "informe-ajeno")


def test_a_long_history_comes_a_page_at_a_time_newest_first(page, person, api_admin):  # noqa: F811
    bimba = _pet(api_admin, owner_name="Teo Ruiz", pet_name="Bimba")
    vet = person("veterinario", "Larga Historia")
    for n in range(60):  # two visits a month for two and a half years
        visit = vet.api.post("veterinaria", f"/mascotas/{bimba['id']}/consultas/", json={
            "date": f"{2022 + n // 24}-{n % 24 // 2 + 1:02d}-{1 + 14 * (n % 2):02d}T10:00:00Z", "reason": f"Visita {n + 1}"})
        assert visit.status_code == 201, visit.text

    log_in(page, vet, path=f"/mascotas/{bimba['id']}")
    titles = page.locator(".timeline-item .timeline-title")
    seen: list[str] = []
    for expected in (25, 25, 10):
        expect(titles).to_have_count(expected)
        seen += titles.all_inner_texts()
        if expected == 25:
            page.get_by_role("link", name="Ver más antiguos").click()
    expect(page.get_by_role("link", name="Ver más antiguos")).to_have_count(0)
    assert seen == [f"Visita {n}" for n in range(60, 0, -1)]  # each once, newest first
    check(page, "mascota-historia-larga")
