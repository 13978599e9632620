"""A vet corrects what was read from a document; search, lab series and reports use the correction.

Also: a document's page as an image, and who may see it. Through HTTP with the session's stack
(a real worker reads the documents) on the database under test.
"""

from __future__ import annotations

import io
import secrets

from PIL import Image

from tests.veterinaria.pages import render_page, write_image, write_pdf
from tests.veterinaria.test_documents_api import analysis_lines, pet, report_text, upload, vet  # noqa: F401 (fixtures)


def _owned_pet(vet_client, make_user) -> tuple[dict, object]:
    owner_user = make_user("cliente")
    owner = vet_client.post("veterinaria", "/propietarios/", json={"full_name": "Eva Cliente", "user_id": owner_user.user["id"]}).json()
    found = vet_client.post("veterinaria", "/mascotas/", json={"name": "Propia", "species": "gato", "owner_id": owner["id"]}).json()
    return found, owner_user


def test_a_corrected_text_and_fields_are_what_search_reports_and_series_use(vet, pet, tmp_path):  # noqa: F811
    word = "tripanosoma" + "".join(secrets.choice("bcdfg") for _ in range(4))
    job = upload(vet, write_pdf(tmp_path / "analitica.pdf", [analysis_lines(pet["name"], pet["owner"]["full_name"])]),
                 mascota_id=pet["id"])
    document_id = job["result"]["document_id"]
    original = vet.get("veterinaria", f"/documentos/{document_id}").json()
    assert original["ocr_text"] is None and original["corrected_at"] is None

    corrected_text = original["extracted_text"].replace("Glucosa", f"Glucosa, {word.upper()} negativo")
    response = vet.patch("veterinaria", f"/documentos/{document_id}", json={
        "extracted_text": corrected_text, "document_date": "2024-02-20", "vet_name": "Dra. Inés Cañete",
        "document_type": "historial"})
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["extracted_text"] == corrected_text.strip()
    assert document["ocr_text"] == original["extracted_text"]  # what the reading said is kept
    assert document["ocr_fields"]["vet_name"] == original["fields"]["vet_name"]
    assert document["fields"]["vet_name"] == "Dra. Inés Cañete" and document["fields"]["date"] == "2024-02-20"
    assert (document["document_type"], document["document_date"]) == ("historial", "2024-02-20")
    assert document["corrected_by"] == vet.user["id"]

    hits = vet.get("veterinaria", "/historias-clinicas/buscar", params={"q": word}).json()
    assert [(h["kind"], h["ref_id"]) for h in hits] == [("document", document_id)]
    assert word.upper() in hits[0]["snippet"]
    # the lab values move to the corrected date
    series = {s["name"]: s for s in vet.get("veterinaria", f"/mascotas/{pet['id']}/analiticas/").json()}
    assert series["Hemoglobina"]["points"] == [{"date": "2024-02-20", "value": 12.5, "raw": "12.5", "document_id": document_id}]
    assert series["Hemoglobina"]["unit"] == "g/dL"
    assert word.upper() in report_text(vet, pet["id"])

    # a second correction keeps the first reading, not the first correction
    again = vet.patch("veterinaria", f"/documentos/{document_id}", json={"patient_name": pet["name"]}).json()
    assert again["ocr_text"] == original["extracted_text"] and again["fields"]["vet_name"] == "Dra. Inés Cañete"


def test_a_document_no_pet_matched_is_attached_by_hand(vet, make_user, tmp_path):  # noqa: F811
    job = upload(vet, write_pdf(tmp_path / "huerfano.pdf", [analysis_lines("Desconocido" + secrets.token_hex(3), "Nadie")]))
    assert job["result"]["mascota_id"] is None
    document_id = job["result"]["document_id"]
    mine, owner_user = _owned_pet(vet, make_user)
    assert owner_user.get("veterinaria", f"/documentos/{document_id}").status_code == 404  # no pet: staff only

    assert vet.patch("veterinaria", f"/documentos/{document_id}", json={"pet_id": mine["id"]}).status_code == 200
    assert [d["id"] for d in owner_user.get("veterinaria", f"/mascotas/{mine['id']}/documentos/").json()] == [document_id]
    assert owner_user.get("veterinaria", f"/documentos/{document_id}").status_code == 200
    assert [s["name"] for s in owner_user.get("veterinaria", f"/mascotas/{mine['id']}/analiticas/").json()] == [
        "Glucosa", "Hematocrito", "Hemoglobina"]
    # an owner reads but does not correct
    refused = owner_user.patch("veterinaria", f"/documentos/{document_id}", json={"vet_name": "Yo"})
    assert refused.status_code == 403, refused.text


def test_bad_corrections_are_refused_and_change_nothing(vet, pet, tmp_path):  # noqa: F811
    job = upload(vet, write_pdf(tmp_path / "a.pdf", [analysis_lines(pet["name"], "Otro " + secrets.token_hex(2))]),
                 mascota_id=pet["id"])
    document_id = job["result"]["document_id"]
    for body, code in (({}, "nothing_to_correct"), ({"document_type": "carta"}, None), ({"extracted_text": "  "}, None),
                       ({"pet_id": 999_999}, "pet_not_found"), ({"document_date": "2999-01-01"}, None),
                       ({"vet_name": "x", "color": "rojo"}, None)):
        response = vet.patch("veterinaria", f"/documentos/{document_id}", json=body)
        assert response.status_code in (404, 422), (body, response.text)
        assert response.json()["detail"] and (code is None or response.json()["code"] == code), (body, response.text)
    assert vet.get("veterinaria", f"/documentos/{document_id}").json()["corrected_at"] is None
    assert vet.patch("veterinaria", "/documentos/999999", json={"vet_name": "x"}).status_code == 404


def test_a_page_is_shown_as_a_bounded_png_to_whoever_may_see_the_document(vet, make_user, tmp_path):  # noqa: F811
    mine, owner_user = _owned_pet(vet, make_user)
    scan = write_image(tmp_path / "foto.png", render_page(analysis_lines("Propia", "Eva Cliente"), dpi=200), dpi=200)
    scanned = upload(vet, scan, mascota_id=mine["id"])["result"]["document_id"]
    text_pdf = upload(vet, write_pdf(tmp_path / "b.pdf", [analysis_lines("Propia", secrets.token_hex(3))]),
                      mascota_id=mine["id"])["result"]["document_id"]

    for document_id in (scanned, text_pdf):
        response = owner_user.get("veterinaria", f"/documentos/{document_id}/paginas/1")
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(response.content))
        assert max(image.size) <= 1400 and min(image.size) > 500
        missing = vet.get("veterinaria", f"/documentos/{document_id}/paginas/2")
        assert missing.status_code == 404 and missing.json()["code"] == "page_not_found"
    # another owner does not see it, the page either
    stranger = make_user("cliente")
    assert stranger.get("veterinaria", f"/documentos/{scanned}/paginas/1").status_code == 404
