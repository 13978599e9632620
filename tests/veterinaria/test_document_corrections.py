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
    assert series["Hemoglobina"]["points"] == [{"date": "2024-02-20", "value": 12.5, "raw": "12.5", "document_id": document_id,
                                                    "corrected": False}]
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


def test_a_corrected_lab_value_is_what_search_the_series_and_the_report_use(vet, pet, tmp_path):  # noqa: F811
    job = upload(vet, write_pdf(tmp_path / "hemograma.pdf", [analysis_lines(pet["name"], pet["owner"]["full_name"])]),
                 mascota_id=pet["id"])
    document_id = job["result"]["document_id"]
    read = vet.get("veterinaria", f"/documentos/{document_id}").json()
    glucose = next(v for v in read["lab_values"] if v["name"] == "Glucosa")
    assert (glucose["value"], glucose["unit"], glucose["ocr_value"]) == (95.0, "mg/dL", None)
    name = "Fructosamina" + "".join(secrets.choice("bcdfg") for _ in range(4))

    response = vet.patch("veterinaria", f"/documentos/{document_id}/analiticas/{glucose['id']}",
                         json={"name": name, "value": 310.5, "unit": "µmol/L"})

    assert response.status_code == 200, response.text
    corrected = response.json()
    assert (corrected["name"], corrected["value"], corrected["raw_value"], corrected["unit"]) == (name, 310.5, "310.5", "µmol/L")
    # what the reading said stays beside it
    assert (corrected["ocr_name"], corrected["ocr_value"], corrected["ocr_raw_value"], corrected["ocr_unit"]) == (
        "Glucosa", 95.0, "95", "mg/dL")
    assert corrected["corrected_by"] == vet.user["id"]
    document = vet.get("veterinaria", f"/documentos/{document_id}").json()
    assert name in [v["name"] for v in document["fields"]["lab_values"]]
    assert "Glucosa" in [v["name"] for v in document["ocr_fields"]["lab_values"]]
    # search finds it by its corrected name, the series and the report carry the corrected value
    hits = vet.get("veterinaria", "/historias-clinicas/buscar", params={"q": name}).json()
    assert [(h["kind"], h["ref_id"]) for h in hits] == [("document", document_id)]
    assert f"{name} 310.5 µmol/L" in hits[0]["snippet"]
    series = {s["name"]: s for s in vet.get("veterinaria", f"/mascotas/{pet['id']}/analiticas/").json()}
    assert series[name]["unit"] == "µmol/L"
    assert series[name]["points"] == [{"date": "2024-01-15", "value": 310.5, "raw": "310.5", "document_id": document_id,
                                       "corrected": True}]
    assert "Glucosa" not in series or document_id not in [p["document_id"] for p in series["Glucosa"]["points"]]
    assert name in report_text(vet, pet["id"])

    # a second correction keeps the first reading, not the first correction
    again = vet.patch("veterinaria", f"/documentos/{document_id}/analiticas/{glucose['id']}", json={"value": 300}).json()
    assert (again["value"], again["raw_value"], again["name"], again["ocr_value"]) == (300.0, "300", name, 95.0)


def test_bad_lab_value_corrections_are_refused_and_change_nothing(vet, pet, make_user, tmp_path):  # noqa: F811
    job = upload(vet, write_pdf(tmp_path / "c.pdf", [analysis_lines(pet["name"], "Otro " + secrets.token_hex(2))]),
                 mascota_id=pet["id"])
    document_id = job["result"]["document_id"]
    value_id = vet.get("veterinaria", f"/documentos/{document_id}").json()["lab_values"][0]["id"]
    path = f"/documentos/{document_id}/analiticas/{value_id}"
    for body, code in (({}, "nothing_to_correct"), ({"name": None}, "lab_value_name_required"),
                       ({"value": None}, "lab_value_value_required"), ({"value": "mucho"}, None), ({"name": " "}, None),
                       ({"unit": "x" * 31}, None), ({"value": 1e300}, None), ({"value": 1, "color": "rojo"}, None)):
        response = vet.patch("veterinaria", path, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"] and (code is None or response.json()["code"] == code), (body, response.text)
    # a value of another document, an unknown one, and an owner's attempt
    other = upload(vet, write_pdf(tmp_path / "d.pdf", [analysis_lines(pet["name"], "Otra " + secrets.token_hex(2))]),
                   mascota_id=pet["id"])["result"]["document_id"]
    missing = vet.patch("veterinaria", f"/documentos/{other}/analiticas/{value_id}", json={"value": 1})
    assert missing.status_code == 404 and missing.json()["code"] == "lab_value_not_found"
    assert vet.patch("veterinaria", f"/documentos/{document_id}/analiticas/999999", json={"value": 1}).status_code == 404
    assert make_user("cliente").patch("veterinaria", path, json={"value": 1}).status_code == 403
    unchanged = vet.get("veterinaria", f"/documentos/{document_id}").json()
    assert unchanged["corrected_at"] is None and unchanged["lab_values"][0]["corrected_at"] is None
