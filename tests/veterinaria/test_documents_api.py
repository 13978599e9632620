"""The seed's veterinaria endpoints through HTTP with a real worker: documents (OCR) and medical reports."""

from __future__ import annotations

import secrets

import pypdfium2
import pytest

from tests.jobs_helpers import wait_for_status
from tests.veterinaria.pages import render_page, write_image, write_pdf, write_truncated_pdf


def wait_task(client, task_id: str, timeout: float = 120) -> dict:
    return wait_for_status(client, "veterinaria", f"/historias-clinicas/task/{task_id}", timeout=timeout)


@pytest.fixture(scope="module")
def vet(make_user):
    return make_user("veterinario")


@pytest.fixture
def pet(vet):
    # three random syllables: unique enough, and pronounceable as real names are; five random
    # consonants ("tlnbg") got misread now and then by the OCR of a 150 dpi scan
    suffix = "".join(secrets.choice("bcdfglmnprstvz") + secrets.choice("aeiou") for _ in range(3))
    owner = vet.post("veterinaria", "/propietarios/", json={"full_name": f"María García {suffix.title()}"}).json()
    name = f"Kiwi{suffix}"
    response = vet.post("veterinaria", "/mascotas/", json={"name": name, "species": "canino", "owner_id": owner["id"]})
    assert response.status_code == 201, response.text
    return response.json()


def analysis_lines(pet_name: str, owner: str) -> list[str]:
    return [
        "CLÍNICA VETERINARIA TIMÓN",
        "ANÁLISIS DE SANGRE - HEMOGRAMA",
        f"Paciente: {pet_name}    Especie: Canino",
        f"Propietario: {owner}",
        "Fecha: 15/01/2024",
        "Veterinario: Dra. Ana Martín",
        "Hemoglobina 12.5 g/dL (12-18)",
        "Hematocrito: 37,2 % (37-55)",
        "Glucosa 95 mg/dL (70-110)",
    ]


def upload(client, path, **form) -> dict:
    with open(path, "rb") as handle:
        response = client.post("veterinaria", "/historias-clinicas/", files={"file": (path.name, handle)},
                               data={k: str(v) for k, v in form.items()})
    assert response.status_code == 202, response.text
    return wait_task(client, response.json()["task_id"])


def test_a_pdf_with_text_is_read_filed_in_the_pets_history_and_searchable(vet, pet, tmp_path):
    path = write_pdf(tmp_path / "analitica.pdf", [analysis_lines(pet["name"], pet["owner"]["full_name"])])

    job = upload(vet, path)

    assert job["status"] == "completed", job
    result = job["result"]
    assert job["document_type"] == "analisis" and job["confidence"] == 1.0
    assert pet["name"] in job["extracted_text"]
    assert job["file_path"].startswith("documents/") and "/tmp" not in job["file_path"]
    assert result["mascota_id"] == pet["id"]  # matched by patient name, species and owner
    assert result["fields"]["date"] == "2024-01-15"
    assert {"name": "Hemoglobina", "value": 12.5, "unit": "g/dL"}.items() <= result["fields"]["lab_values"][0].items()
    listed = vet.get("veterinaria", f"/mascotas/{pet['id']}/documentos/").json()
    assert [d["id"] for d in listed] == [result["document_id"]]
    found = vet.get("veterinaria", "/historias-clinicas/buscar", params={"q": "hemoglobina " + pet["name"].lower()}).json()
    assert result["document_id"] in [hit["ref_id"] for hit in found if hit["kind"] == "document"]


def test_the_same_file_twice_points_to_the_same_document(vet, pet, tmp_path):
    path = write_pdf(tmp_path / "dup.pdf", [analysis_lines(pet["name"], "Otro " + secrets.token_hex(2))])

    first = upload(vet, path, mascota_id=pet["id"])
    second = upload(vet, path, mascota_id=pet["id"])

    assert first["result"]["document_id"] == second["result"]["document_id"]
    assert second["result"]["duplicate"] is True
    assert len(vet.get("veterinaria", f"/mascotas/{pet['id']}/documentos/").json()) == 1


def test_a_photographed_page_is_read_by_ocr(vet, pet, tmp_path):
    page = render_page(analysis_lines(pet["name"], pet["owner"]["full_name"]), dpi=200)
    path = write_image(tmp_path / "foto.png", page, dpi=200)

    job = upload(vet, path, mascota_id=pet["id"])

    assert job["status"] == "completed", job
    assert pet["name"] in job["extracted_text"]
    assert 0.5 < job["confidence"] <= 1.0
    assert job["result"]["pages"][0]["number"] == 1


@pytest.mark.parametrize(("name", "content"), [("vacio.pdf", b""), ("notas.pdf", b"Esto es un texto, no un PDF.\n" * 20)])
def test_files_that_are_not_documents_are_refused_at_upload(vet, name, content):
    response = vet.post("veterinaria", "/historias-clinicas/", files={"file": (name, content)})
    assert response.status_code == 422, response.text
    assert response.json()["code"] not in ("bad_input", "document_unreadable")  # the refusal's own code


def test_a_truncated_pdf_fails_the_job_with_a_message(vet, pet, tmp_path):
    whole = write_pdf(tmp_path / "entero.pdf", [analysis_lines(pet["name"], "x")])
    path = write_truncated_pdf(tmp_path / "cortado.pdf", whole)

    job = upload(vet, path, mascota_id=pet["id"])

    assert job["status"] == "failed" and job["error"]
    assert vet.get("veterinaria", f"/mascotas/{pet['id']}/documentos/").json()[0]["status"] in ("failed", "processed")


def test_a_medical_report_is_a_pdf_and_an_empty_history_still_gets_one(vet, pet, tmp_path):
    vet.post("veterinaria", f"/mascotas/{pet['id']}/consultas/", json={"date": "2024-01-10T10:00:00Z", "reason": "Vacunación", "weight_kg": 20.5})
    vet.post("veterinaria", f"/mascotas/{pet['id']}/consultas/", json={"date": "2024-03-10T10:00:00Z", "reason": "Revisión", "weight_kg": 21.2})

    response = vet.post("veterinaria", f"/mascotas/{pet['id']}/reportes/")
    assert response.status_code == 202
    job = wait_task(vet, response.json()["task_id"])

    assert job["status"] == "completed", job
    assert job["result"]["consultations"] == 2 and len(job["result"]["weights"]) == 2
    pdf = vet.get("veterinaria", job["result"]["pdf_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    owner = vet.post("veterinaria", "/propietarios/", json={"full_name": "Sin Historia"}).json()
    empty = vet.post("veterinaria", "/mascotas/", json={"name": "Nuevo", "species": "felino", "owner_id": owner["id"]}).json()
    job = wait_task(vet, vet.post("veterinaria", f"/mascotas/{empty['id']}/reportes/").json()["task_id"])
    assert job["status"] == "completed" and job["result"]["consultations"] == 0
    assert vet.get("veterinaria", job["result"]["pdf_url"]).content.startswith(b"%PDF")


def test_a_medical_report_is_followed_under_its_pet(vet, pet, make_user):
    accepted = vet.post("veterinaria", f"/mascotas/{pet['id']}/reportes/").json()
    assert accepted["status_url"] == f"/mascotas/{pet['id']}/reportes/{accepted['task_id']}"

    job = wait_for_status(vet, "veterinaria", accepted["status_url"])
    assert job["status"] == "completed" and job["kind"] == "medical_report"
    assert wait_task(vet, accepted["task_id"])["status"] == "completed"  # the seed's route still answers

    owner = vet.post("veterinaria", "/propietarios/", json={"full_name": "Otra Familia"}).json()
    other = vet.post("veterinaria", "/mascotas/", json={"name": "Otro", "species": "felino", "owner_id": owner["id"]}).json()
    diagnostic = make_user("admin").post("veterinaria", "/jobs/diagnostic", json={"steps": 1, "step_seconds": 0}).json()
    for path in (f"/mascotas/{other['id']}/reportes/{accepted['task_id']}",  # another pet's
                 f"/mascotas/{pet['id']}/reportes/{diagnostic['task_id']}"):  # not a report
        answer = vet.get("veterinaria", path)
        assert answer.status_code == 404 and answer.json()["code"] == "job_not_found", (path, answer.text)


def test_a_report_for_an_unknown_pet_is_404_at_submit_time(vet):
    assert vet.post("veterinaria", "/mascotas/999999/reportes/").status_code == 404


def test_a_multi_page_scan_is_read_page_by_page_by_the_ocr_helpers(vet, pet, tmp_path):
    lines = analysis_lines(pet["name"], pet["owner"]["full_name"])
    scans = [render_page([f"Página {n}", *lines], dpi=150) for n in (1, 2, 3)]
    path = write_pdf(tmp_path / "escaneado.pdf", scans)

    job = upload(vet, path, mascota_id=pet["id"])

    assert job["status"] == "completed", job
    pages = job["result"]["pages"]
    assert [p["number"] for p in pages] == [1, 2, 3]
    assert all(pet["name"] in p["text"] for p in pages)


def report_text(client, pet_id: int) -> str:
    job = wait_task(client, client.post("veterinaria", f"/mascotas/{pet_id}/reportes/").json()["task_id"])
    assert job["status"] == "completed", job
    content = client.get("veterinaria", job["result"]["pdf_url"]).content
    document = pypdfium2.PdfDocument(content)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_thousands_points_are_stored_as_meant_kept_as_printed_and_reported(vet, pet, tmp_path):
    lines = [
        "LABORATORIO VETERINARIO - HEMOGRAMA", f"Paciente: {pet['name']}    Especie: Canino",
        f"Propietario: {pet['owner']['full_name']}", "Fecha: 15/01/2024", "Veterinario: Dr. Tomás Ibáñez",
        "Leucocitos ......... 9.400 /µL (5.500 - 19.500)",
        "Plaquetas ......... 310.000 /µL (200.000 - 500.000)",
        "Hemoglobina ....... 12,5 g/dL (12,0 - 18,0)",
        "ALT ............... 1.200 U/L",
    ]
    job = upload(vet, write_pdf(tmp_path / "hemograma.pdf", [lines]), mascota_id=pet["id"])

    assert job["status"] == "completed", job
    labs = {v["name"]: v for v in job["result"]["fields"]["lab_values"]}
    assert (labs["Leucocitos"]["value"], labs["Leucocitos"]["raw"], labs["Leucocitos"]["ambiguous"]) == (9400, "9.400", False)
    assert labs["Plaquetas"]["value"] == 310000
    assert (labs["ALT"]["value"], labs["ALT"]["raw"], labs["ALT"]["ambiguous"]) == (None, "1.200", True)
    assert job["result"]["fields"]["vet_name"] == "Tomás Ibáñez"
    assert job["result"]["document_type_label"] == job["document_type_label"] == "análisis"
    assert job["document_type"] == "analisis"  # the identifier stays ASCII
    listed = vet.get("veterinaria", f"/mascotas/{pet['id']}/documentos/").json()
    assert [(d["document_type"], d["document_type_label"]) for d in listed] == [("analisis", "análisis")]

    report = report_text(vet, pet["id"])
    assert "9400 /µL" in report and "310 000 /µL" in report and "12,5 g/dL" in report
    assert "1.200 U/L (?)" in report and "tal como lo imprimió el laboratorio" in report
    assert "9,4 /µL" not in report and "9.4 /µL" not in report
    assert "análisis" in report
