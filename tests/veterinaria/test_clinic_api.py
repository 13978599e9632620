"""Owners, pets, histories, consultations and documents through HTTP, as vets and pet owners use them."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

import pytest

from common.config import Settings
from common.db import make_engine, make_session_factory, session_scope
from veterinaria.app.models import Document


@pytest.fixture(scope="module")
def vet(make_user):
    return make_user("veterinario")


@pytest.fixture(scope="module")
def clerk(make_user):
    return make_user("empleado")


def new_owner(vet, **fields) -> dict:
    response = vet.post("veterinaria", "/propietarios/", json={"full_name": "Carmen Núñez", "phone": "600 111 222", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def new_pet(vet, owner: dict, **fields) -> dict:
    body = {"name": f"Luna {secrets.token_hex(2)}", "species": "perro", "owner_id": owner["id"], **fields}
    response = vet.post("veterinaria", "/mascotas/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def consult(vet, pet: dict, **fields) -> dict:
    response = vet.post("veterinaria", f"/mascotas/{pet['id']}/consultas/", json={"reason": "Revisión", **fields})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def family(vet, make_user):
    """A client linked to an owner with one pet, and another owner's pet."""
    client = make_user("cliente")
    owner = new_owner(vet, full_name="Ana Pérez", user_id=client.user["id"])
    return {"client": client, "owner": owner, "pet": new_pet(vet, owner), "other_pet": new_pet(vet, new_owner(vet))}


def test_a_vet_registers_an_owner_a_pet_and_consultations(vet):
    owner = new_owner(vet, email="carmen@example.com")
    pet = new_pet(vet, owner, name="Toby", species="Gato", sex="M", breed="Europeo", birth_date="2021-05-02")

    visit = consult(vet, pet, date="2024-03-01T10:00:00+01:00", reason="Vómitos", diagnosis="Gastritis",
                    treatment="Dieta blanda", weight_kg=4.35)

    assert (pet["species"], pet["sex"], pet["owner"]) == ("felino", "macho", {"id": owner["id"], "full_name": "Carmen Núñez"})
    assert visit["vet_id"] == vet.user["id"] and visit["vet_name"] == vet.user["username"]
    assert (visit["weight_kg"], visit["date"]) == ("4.35", "2024-03-01T09:00:00Z")
    assert vet.get("veterinaria", f"/mascotas/{pet['id']}").json()["name"] == "Toby"
    assert [p["id"] for p in vet.get("veterinaria", f"/propietarios/{owner['id']}/mascotas/").json()] == [pet["id"]]


def test_pets_are_listed_by_name_species_and_owner(vet):
    owner = new_owner(vet)
    tag = secrets.token_hex(3)
    cat = new_pet(vet, owner, name=f"Mía {tag}", species="gata")
    dog = new_pet(vet, owner, name=f"Rocco {tag}")

    by_name = vet.get("veterinaria", "/mascotas/", params={"q": f"MIA {tag}"}).json()
    cats = vet.get("veterinaria", "/mascotas/", params={"species": "gato", "owner_id": owner["id"]}).json()
    page = vet.get("veterinaria", "/mascotas/", params={"owner_id": owner["id"], "limit": 1, "offset": 1}).json()

    assert [p["id"] for p in by_name] == [cat["id"]]
    assert [p["id"] for p in cats] == [cat["id"]]
    assert [p["id"] for p in page] == [dog["id"]]


def test_a_pet_is_corrected_and_moved_to_another_owner(vet):
    pet = new_pet(vet, new_owner(vet), birth_date="2020-01-01")
    new_home = new_owner(vet, full_name="Jorge Díaz")

    changes = {"name": "Kira", "owner_id": new_home["id"], "birth_date": None}
    updated = vet.patch("veterinaria", f"/mascotas/{pet['id']}", json=changes)

    assert updated.status_code == 200, updated.text
    assert (updated.json()["name"], updated.json()["owner_id"], updated.json()["birth_date"]) == ("Kira", new_home["id"], None)
    assert vet.patch("veterinaria", f"/mascotas/{pet['id']}", json={"owner_id": 999999}).status_code == 404


def test_the_history_lists_consultations_in_date_order(vet):
    pet = new_pet(vet, new_owner(vet))
    consult(vet, pet, date="2024-05-10T09:00:00Z", reason="Tercera")
    consult(vet, pet, date="2023-01-20T09:00:00Z", reason="Primera")
    consult(vet, pet, date="2024-02-01T09:00:00Z", reason="Segunda")
    vet.patch("veterinaria", f"/mascotas/{pet['id']}/historia", json={"notes": "Alérgica a la penicilina"})

    history = vet.get("veterinaria", f"/mascotas/{pet['id']}/historia").json()
    listed = vet.get("veterinaria", f"/mascotas/{pet['id']}/consultas/").json()

    assert [c["reason"] for c in history["consultations"]] == ["Primera", "Segunda", "Tercera"]
    assert [c["reason"] for c in listed] == ["Primera", "Segunda", "Tercera"]
    assert (history["pet"]["id"], history["notes"], history["documents"]) == (pet["id"], "Alérgica a la penicilina", [])
    assert vet.get("veterinaria", f"/mascotas/{pet['id']}/documentos/").json() == []


def test_a_client_sees_only_their_own_pets(family):
    client, pet, other = family["client"], family["pet"], family["other_pet"]

    assert [p["id"] for p in client.get("veterinaria", "/mascotas/").json()] == [pet["id"]]
    assert client.get("veterinaria", f"/mascotas/{pet['id']}").status_code == 200
    assert client.get("veterinaria", f"/mascotas/{pet['id']}/historia").status_code == 200
    assert client.get("veterinaria", f"/propietarios/{family['owner']['id']}").json()["full_name"] == "Ana Pérez"
    assert client.get("veterinaria", f"/propietarios/{family['owner']['id']}/mascotas/").status_code == 200
    for path in ("", "/historia", "/consultas/", "/documentos/"):
        assert client.get("veterinaria", f"/mascotas/{other['id']}{path}").status_code == 404, path
    assert client.get("veterinaria", f"/mascotas/{other['id']}").json() == {"detail": f"No existe la mascota con id {other['id']}.", "code": "pet_not_found"}
    assert client.get("veterinaria", f"/propietarios/{other['owner_id']}").status_code == 404
    assert client.get("veterinaria", "/documentos/999999").status_code == 404


def test_a_client_reads_their_pets_consultations_but_may_not_write(vet, family):
    client, pet = family["client"], family["pet"]
    consult(vet, pet, reason="Vacunación anual")

    assert [c["reason"] for c in client.get("veterinaria", f"/mascotas/{pet['id']}/consultas/").json()] == ["Vacunación anual"]
    for other in (pet, family["other_pet"], {"id": 999999}):
        assert client.post("veterinaria", f"/mascotas/{other['id']}/consultas/", json={"reason": "x"}).status_code == 403
        assert client.patch("veterinaria", f"/mascotas/{other['id']}", json={"name": "x"}).status_code == 403
    new_pet_in = {"name": "x", "species": "perro", "owner_id": family["owner"]["id"]}
    assert client.post("veterinaria", "/mascotas/", json=new_pet_in).status_code == 403
    assert client.post("veterinaria", "/propietarios/", json={"full_name": "Yo"}).status_code == 403
    assert client.get("veterinaria", "/propietarios/").status_code == 403


@pytest.fixture(scope="module")
def stack_sessions(stack, database_url):
    """Sessions on the running stack's database, to arrange what only a worker writes (documents)."""
    engine = make_engine(Settings(_env_file=None, database_url=database_url))
    yield make_session_factory(engine)
    engine.dispose()


def file_document(stack_sessions, pet: dict, **fields) -> int:
    """A document as the OCR task files it."""
    with session_scope(stack_sessions) as session:
        document = Document(pet_id=pet["id"], file_key=f"documents/{secrets.token_hex(8)}", file_name="analitica.pdf",
                            file_kind="pdf", size=2048, sha256=secrets.token_hex(32), status="processed", uploaded_by=1,
                            pages=1, confidence=0.93, **fields)
        session.add(document)
        session.flush()
        return document.id


def test_documents_are_listed_by_date_without_their_text_and_read_in_full(vet, family, stack_sessions):
    client, pet = family["client"], family["pet"]
    text = "Hemoglobina 12.5 g/dL"
    later = file_document(stack_sessions, pet, document_type="analisis", document_date=date(2024, 3, 1), extracted_text=text,
                          fields={"lab_values": [{"name": "Hemoglobina", "value": 12.5, "unit": "g/dL"}]},
                          page_texts=[{"number": 1, "text": text, "confidence": 0.93}])
    earlier = file_document(stack_sessions, pet, document_type="radiografia", document_date=date(2023, 7, 9))
    undated = file_document(stack_sessions, pet)
    elsewhere = file_document(stack_sessions, family["other_pet"])

    listed = client.get("veterinaria", f"/mascotas/{pet['id']}/documentos/").json()
    full = client.get("veterinaria", f"/documentos/{later}").json()

    assert [d["id"] for d in listed] == [earlier, later, undated]
    assert "extracted_text" not in listed[0] and listed[1]["document_type"] == "analisis"
    assert (full["extracted_text"], full["fields"]["lab_values"][0]["value"], full["page_texts"][0]["number"]) == (text, 12.5, 1)
    assert "file_key" not in full
    history = client.get("veterinaria", f"/mascotas/{pet['id']}/historia").json()
    assert [d["id"] for d in history["documents"]] == [earlier, later, undated]
    assert client.get("veterinaria", f"/documentos/{elsewhere}").status_code == 404
    assert vet.get("veterinaria", f"/documentos/{elsewhere}").status_code == 200


def test_shop_staff_and_strangers_are_kept_out(clerk, anonymous, family):
    pet = family["pet"]
    for path in ("/mascotas/", f"/mascotas/{pet['id']}", f"/mascotas/{pet['id']}/historia", "/propietarios/",
                 f"/mascotas/{pet['id']}/documentos/", "/documentos/1"):
        assert clerk.get("veterinaria", path).status_code == 403, path
        assert anonymous.get("veterinaria", path).status_code == 401, path
    assert clerk.post("veterinaria", f"/mascotas/{pet['id']}/consultas/", json={"reason": "x"}).status_code == 403


def test_a_user_account_links_to_one_owner_only(vet, family):
    response = vet.post("veterinaria", "/propietarios/", json={"full_name": "Otra", "user_id": family["client"].user["id"]})

    assert response.status_code == 409
    assert vet.get("veterinaria", "/propietarios/", params={"q": "ana perez"}).status_code == 200


def field_errors(response) -> set[str]:
    assert response.status_code == 422, response.text
    return {error["loc"][-1] for error in response.json()["errors"]}


def test_bad_input_is_422_naming_the_field(vet):
    owner = new_owner(vet)
    pet = new_pet(vet, owner, birth_date="2022-06-01")
    tomorrow_plus = (date.today() + timedelta(days=3)).isoformat()

    def post_pet(**fields):
        return vet.post("veterinaria", "/mascotas/", json={"name": "Rex", "species": "perro", "owner_id": owner["id"], **fields})

    def post_consultation(**fields):
        return vet.post("veterinaria", f"/mascotas/{pet['id']}/consultas/", json={"reason": "Control", **fields})

    assert field_errors(post_pet(birth_date=tomorrow_plus)) == {"birth_date"}
    assert field_errors(post_pet(sex="quizá")) == {"sex"}
    assert field_errors(post_pet(name="  ")) == {"name"}
    assert field_errors(post_pet(color="negro")) == {"color"}
    assert field_errors(vet.post("veterinaria", "/mascotas/", json={"name": "Rex"})) == {"species", "owner_id"}
    assert field_errors(post_consultation(weight_kg=0)) == {"weight_kg"}
    assert field_errors(post_consultation(weight_kg=1000)) == {"weight_kg"}
    assert field_errors(post_consultation(weight_kg=-3)) == {"weight_kg"}
    assert field_errors(post_consultation(date=f"{tomorrow_plus}T10:00:00Z")) == {"date"}
    assert field_errors(post_consultation(reason="")) == {"reason"}
    assert field_errors(post_consultation(vet_id=1)) == {"vet_id"}
    before_birth = post_consultation(date="2021-01-01T10:00:00Z")
    assert before_birth.status_code == 422 and before_birth.json()["code"] == "date_before_birth"
    bad_email = vet.post("veterinaria", "/propietarios/", json={"full_name": "X", "email": "no-es-un-correo"})
    assert field_errors(bad_email) == {"email"}
    assert vet.post("veterinaria", "/mascotas/", json={"name": "Rex", "species": "perro", "owner_id": 999999}).status_code == 404
    assert vet.get("veterinaria", "/mascotas/no-es-un-id").status_code == 422
