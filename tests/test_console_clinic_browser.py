"""The console's clinic (issue #9, vets and owners) in a real headless Chromium against the real stack.

Stories: a vet uploads two documents at once, follows each one's progress, opens the result (page
image beside the text, fields, the pet or the candidates), corrects the text and finds the
correction by search with the words marked; a pet's timeline and charts; its medical report; and a
cliente who cannot reach another owner's pet or document by editing the URL.

The fixtures (stack, browser, people) are test_console_browser.py's; this module gets its own
stack. Every page reached is checked by check_page (axe-core, no sideways scroll, screenshots)
and at tablet size (1024×768) too.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser_helpers import SCREENSHOTS, check_page, ensure_worker, log_in, open_from_menu
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

CONSOLE_REDIS_DB = 15  # console_stack gives this module a stack of its own
TABLET = {"width": 1024, "height": 768}
A5_MM = (148, 210)


def check(tab, name: str) -> None:
    check_page(tab, name)
    tab.set_viewport_size(TABLET)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}-tableta.png"), full_page=True)
    overflow = tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 1024px"
    tab.set_viewport_size({"width": 1280, "height": 800})


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
