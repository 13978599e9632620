"""A pet's owner lists and opens the medical reports a vet made about their pet, and no one else's.

Through HTTP with the session's stack (a real worker draws the PDFs) on the database under test.
"""

from __future__ import annotations

import secrets

from tests.veterinaria.test_documents_api import vet, wait_task  # noqa: F401 (fixture)


def _owned_pet(vet, make_user, name: str) -> tuple[dict, object]:  # noqa: F811 (the fixture, passed on)
    owner_user = make_user("cliente")
    owner = vet.post("veterinaria", "/propietarios/",
                     json={"full_name": f"Dueña {name}", "user_id": owner_user.user["id"]}).json()
    found = vet.post("veterinaria", "/mascotas/", json={"name": name, "species": "perro", "owner_id": owner["id"]}).json()
    return found, owner_user


def _report(client, pet_id: int) -> str:
    job = wait_task(client, client.post("veterinaria", f"/mascotas/{pet_id}/reportes/").json()["task_id"])
    assert job["status"] == "completed", job
    return job["task_id"]


def test_an_owner_lists_and_downloads_the_reports_a_vet_made_about_their_pet(vet, make_user):  # noqa: F811
    mine, owner_user = _owned_pet(vet, make_user, "Rufo" + secrets.token_hex(2))
    first, second = _report(vet, mine["id"]), _report(vet, mine["id"])
    # the vet's job is not the owner's: its status stays the vet's
    assert owner_user.get("veterinaria", f"/mascotas/{mine['id']}/reportes/{first}").status_code == 404

    listed = owner_user.get("veterinaria", f"/mascotas/{mine['id']}/reportes/")

    assert listed.status_code == 200, listed.text
    reports = listed.json()
    assert [r["id"] for r in reports] == [second, first]  # newest first
    assert reports[0]["requested_by"] == vet.user["username"] and reports[0]["pages"] >= 1
    pdf = owner_user.get("veterinaria", reports[1]["pdf_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert vet.get("veterinaria", f"/mascotas/{mine['id']}/reportes/?limit=1&offset=1").json()[0]["id"] == first


def test_another_owners_report_is_not_found_by_list_or_by_url(vet, make_user):  # noqa: F811
    mine, owner_user = _owned_pet(vet, make_user, "Kira" + secrets.token_hex(2))
    theirs, _stranger = _owned_pet(vet, make_user, "Otto" + secrets.token_hex(2))
    their_report = _report(vet, theirs["id"])

    assert owner_user.get("veterinaria", f"/mascotas/{theirs['id']}/reportes/").status_code == 404
    refused = owner_user.get("veterinaria", f"/mascotas/{theirs['id']}/reportes/{their_report}/pdf")
    assert refused.status_code == 404 and "%PDF" not in refused.text
    # nor through their own pet's path
    assert owner_user.get("veterinaria", f"/mascotas/{mine['id']}/reportes/{their_report}/pdf").status_code == 404
    assert owner_user.get("veterinaria", f"/mascotas/{mine['id']}/reportes/").json() == []
