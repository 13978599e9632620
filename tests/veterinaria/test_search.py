"""Full-text search over clinical records: through the service on a migrated database, then through HTTP.

Runs on SQLite (FTS5) and PostgreSQL (Spanish tsvector); only PostgreSQL stems words.
"""

from __future__ import annotations

import secrets

import pytest

from common.security import Principal, Role
from veterinaria.app import service
from veterinaria.app.models import Document, SearchEntry
from veterinaria.app.schemas import ConsultationCreate, OwnerCreate, PetCreate
from veterinaria.app.search import SearchKind, fts5_match, index_entry, query_terms, search_text, snippet

VET = Principal(id=9001, username="dra.ruiz", role=Role.VET)
HOSTILE_QUERIES = ['"', "-", "*", "NEAR(", "", "   ", 'torax"', '"radiografia', "a OR b", "body:torax", "^", "NOT",
                   "AND", "(", ")", "'", "\\", "%", "_", "--", "-torax", "torax*", "NEAR(radiografia torax, 2)", "🐶"]


@pytest.fixture
def session(sessions):
    """One transaction per test, rolled back after it: tests do not see each other's records."""
    with sessions() as session:
        yield session
        session.rollback()


def new_pet(session, *, name: str = "Luna", user_id: int | None = None):
    owner = service.create_owner(session=session, owner_in=OwnerCreate(full_name="María García", user_id=user_id))
    return service.create_pet(session=session, pet_in=PetCreate(name=name, species="perro", owner_id=owner.id))


def consult(session, pet, reason: str, diagnosis: str = ""):
    consultation_in = ConsultationCreate(reason=reason, diagnosis=diagnosis)
    return service.create_consultation(session=session, pet=pet, consultation_in=consultation_in, vet=VET)


def new_document(session, pet, text: str) -> Document:
    """A document as the OCR task files it: the row, then its search entry."""
    document = Document(pet_id=pet.id if pet else None, file_key=f"documents/{secrets.token_hex(8)}", file_kind="pdf",
                        size=1, sha256=secrets.token_hex(32), extracted_text=text, status="processed", uploaded_by=VET.id)
    session.add(document)
    session.flush()
    index_entry(session=session, kind="document", ref_id=document.id, pet_id=document.pet_id, body=text)
    return document


def found(session, q: str, **kwargs) -> list[tuple[str, int]]:
    return [(hit.kind, hit.ref_id) for hit in service.search_records(session=session, viewer=VET, q=q, **kwargs)]


def test_search_text_folds_case_and_accents_and_spaces():
    assert search_text("Radiografía  TÓRAX\n") == "radiografia torax"
    assert search_text("Ñandú Ïñigo ﬁebre") == "nandu inigo fiebre"
    assert search_text(search_text("Vacunación")) == search_text("Vacunación") == "vacunacion"


def test_a_query_becomes_quoted_words_and_never_fts_syntax():
    assert query_terms('  "Radiografía" -TÓRAX* NEAR( ') == ["radiografia", "torax", "near"]
    assert fts5_match(["radiografia", "torax"]) == '"radiografia" AND "torax"'
    assert query_terms('" - * ( ) ^') == []


def test_search_ignores_accents_and_case_and_needs_every_word(session):
    pet = new_pet(session)
    xray = consult(session, pet, "Radiografía TÓRAX", diagnosis="Sin hallazgos")
    consult(session, pet, "Vacuna anual")

    assert found(session, "radiografia torax") == [("consultation", xray.id)]
    assert found(session, "RADIOGRAFÍA") == [("consultation", xray.id)]
    assert found(session, "radiografia abdomen") == []


def test_a_hit_names_its_pet_and_shows_the_original_text_around_the_match(session):
    pet = new_pet(session, name="Toby")
    filler = "Exploración general normal. " * 20
    document = new_document(session, pet, f"{filler}Hemoglobina 12.5 g/dL. {filler}")

    [hit] = service.search_records(session=session, viewer=VET, q="hemoglobina")

    assert (hit.kind, hit.ref_id, hit.pet_id, hit.pet_name) == (SearchKind.DOCUMENT, document.id, pet.id, "Toby")
    assert "Hemoglobina 12.5 g/dL" in hit.snippet
    assert "Exploración" in hit.snippet and hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert len(hit.snippet) < 260


def test_the_most_relevant_record_comes_first(session):
    pet = new_pet(session)
    passing = new_document(session, pet, "Control rutinario. " * 30 + "Leve anemia.")
    focused = new_document(session, pet, "Anemia regenerativa: anemia moderada, seguimiento de la anemia.")

    assert found(session, "anemia") == [("document", focused.id), ("document", passing.id)]


def test_indexing_again_replaces_the_entry(session):
    pet = new_pet(session)
    document = new_document(session, pet, "borrador ilegible")

    index_entry(session=session, kind="document", ref_id=document.id, pet_id=pet.id, body="Ecografía abdominal")

    assert found(session, "ecografia") == [("document", document.id)]
    assert found(session, "borrador") == []
    assert session.query(SearchEntry).filter_by(kind="document", ref_id=document.id).count() == 1


@pytest.mark.parametrize("q", HOSTILE_QUERIES)
def test_hostile_queries_find_nothing_or_plain_words_but_never_fail(session, q):
    pet = new_pet(session)
    consult(session, pet, "Radiografía de tórax")

    hits = found(session, q)

    assert hits == [] or all(kind == "consultation" for kind, _ in hits)


def test_a_client_finds_only_their_own_pets_records(session):
    mine = new_pet(session, name="Kira", user_id=7001)
    theirs = new_pet(session, name="Rex", user_id=7002)
    my_visit = consult(session, mine, "Otitis externa")
    consult(session, theirs, "Otitis media")
    new_document(session, None, "Otitis: documento sin mascota asignada")
    client = Principal(id=7001, username="cliente-kira", role=Role.CLIENT)

    hits = service.search_records(session=session, viewer=client, q="otitis")

    assert [(hit.kind, hit.ref_id) for hit in hits] == [("consultation", my_visit.id)]
    assert len(found(session, "otitis")) == 3  # staff see all, unattached documents included
    assert service.search_records(session=session, viewer=client, q="otitis", pet_id=theirs.id) == []


def test_filters_by_pet_and_kind(session):
    luna, toby = new_pet(session, name="Luna"), new_pet(session, name="Toby")
    visit = consult(session, luna, "Dermatitis")
    document = new_document(session, luna, "Dermatitis atópica")
    consult(session, toby, "Dermatitis")

    assert sorted(found(session, "dermatitis", pet_id=luna.id)) == sorted([("consultation", visit.id), ("document", document.id)])
    assert found(session, "dermatitis", pet_id=luna.id, kind=SearchKind.DOCUMENT) == [("document", document.id)]


def test_spanish_word_forms_match_on_postgresql(session, database_kind):
    if database_kind != "postgresql":
        pytest.skip("FTS5 matches whole words only; stemming is PostgreSQL's Spanish configuration")
    pet = new_pet(session)
    visit = consult(session, pet, "Vacunación antirrábica", diagnosis="Vacunas al día")

    assert found(session, "vacuna") == [("consultation", visit.id)]
    assert found(session, "vacunaciones") == [("consultation", visit.id)]


def test_snippet_falls_back_to_the_start_without_a_literal_match():
    assert snippet("Vacunas al día.", ["vacuna"]) == "Vacunas al día."
    assert snippet("", ["x"]) == ""
    assert snippet("Texto corto", ["ausente"]) == "Texto corto"


# --- through HTTP ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vet(make_user):
    return make_user("veterinario")


def test_search_over_http_is_restricted_for_clients_and_survives_hostile_queries(vet, make_user):
    client = make_user("cliente")
    word = f"zq{secrets.token_hex(4)}"  # a word no other test writes
    owner = vet.post("veterinaria", "/propietarios/", json={"full_name": "Ana Pérez", "user_id": client.user["id"]}).json()
    stranger = vet.post("veterinaria", "/propietarios/", json={"full_name": "Luis Gómez"}).json()
    mine = vet.post("veterinaria", "/mascotas/", json={"name": "Nala", "species": "gato", "owner_id": owner["id"]}).json()
    other = vet.post("veterinaria", "/mascotas/", json={"name": "Bruno", "species": "perro", "owner_id": stranger["id"]}).json()
    for pet in (mine, other):
        response = vet.post("veterinaria", f"/mascotas/{pet['id']}/consultas/", json={"reason": f"Radiografía TÓRAX {word}"})
        assert response.status_code == 201, response.text

    by_vet = vet.get("veterinaria", "/historias-clinicas/buscar", params={"q": f"radiografia torax {word.upper()}"})
    by_client = client.get("veterinaria", "/historias-clinicas/buscar", params={"q": word})

    assert sorted(hit["pet_name"] for hit in by_vet.json()) == ["Bruno", "Nala"]
    assert [(hit["pet_id"], hit["pet_name"]) for hit in by_client.json()] == [(mine["id"], "Nala")]
    assert "TÓRAX" in by_client.json()[0]["snippet"]
    for q in HOSTILE_QUERIES:
        response = vet.get("veterinaria", "/historias-clinicas/buscar", params={"q": q})
        assert response.status_code == 200, (q, response.text)
    assert vet.get("veterinaria", "/historias-clinicas/buscar").status_code == 422
    assert make_user("empleado").get("veterinaria", "/historias-clinicas/buscar", params={"q": word}).status_code == 403
