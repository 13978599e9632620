"""What stays in storage after each kind of failure: only what a job, a retry of it, or a document still needs.

Counted in the running stack's storage folder: uploads live under `imports/YYYY/` and
`documents/YYYY/`; files made for the user (errores.csv, reports) under `imports/<job id>/` and
`reports/`.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.jobs_helpers import wait_for_status
from tests.veterinaria.pages import render_page, write_pdf, write_truncated_pdf


@pytest.fixture(scope="module")
def files(stack) -> Path:
    return Path(stack.env["VAR_DIR"]) / "files"


def count(root: Path, prefix: str, *, uploads: bool = True) -> int:
    """Files under `prefix`: the uploads (in year folders) or the files jobs made (in job-id folders)."""
    base = root / prefix
    if not base.exists():
        return 0
    return sum(1 for path in base.rglob("*") if path.is_file() and path.relative_to(base).parts[0].isdigit() == uploads)


@pytest.fixture(scope="module")
def clerk(make_user):
    return make_user("empleado")


@pytest.fixture(scope="module")
def vet(make_user):
    return make_user("veterinario")


@pytest.fixture(scope="module")
def store(admin):
    return admin.post("petshop", "/tiendas/", json={"name": f"Tienda {secrets.token_hex(3)}"}).json()


def import_file(clerk, store, name: str, content: bytes):
    return clerk.post("petshop", "/upload-inventario/", files={"file": (name, content)}, data={"store_id": str(store["id"])})


def test_a_file_refused_at_upload_leaves_nothing(clerk, store, files):
    before = count(files, "imports")
    png = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(2000)

    assert import_file(clerk, store, "inventario.csv", png).status_code == 422
    too_large = secrets.token_bytes(3 * 1024 * 1024)  # the test stack's MAX_UPLOAD_MB is 2
    refused = import_file(clerk, store, "grande.csv", too_large)
    assert refused.status_code == 413 and refused.json()["code"] == "upload_too_large"

    assert count(files, "imports") == before


def test_an_import_that_fails_on_bad_input_keeps_its_upload_for_a_retry_and_nothing_else(clerk, store, files):
    before, made = count(files, "imports"), count(files, "imports", uploads=False)
    accepted = import_file(clerk, store, "sin_cabecera.csv", b"uno,dos\n1,2\n3,4\n")
    assert accepted.status_code == 202, accepted.text

    job = wait_for_status(clerk, "petshop", accepted.json()["status_url"])

    assert job["status"] == "failed" and job["error"]
    # an admin may retry it with the same file (POST /jobs/{id}/retry); the clean-up schedule removes old ones
    assert count(files, "imports") == before + 1
    assert count(files, "imports", uploads=False) == made


def test_a_finished_import_keeps_its_errors_csv_but_not_the_upload(clerk, store, files):
    uploads, made = count(files, "imports"), count(files, "imports", uploads=False)
    sku = secrets.token_hex(4).upper()
    accepted = import_file(clerk, store, "ok.csv", f"SKU,Nombre,Stock,Precio\n{sku},Pelota,3,2.50\n,Sin código,1,1\n".encode())

    job = wait_for_status(clerk, "petshop", accepted.json()["status_url"])

    assert job["status"] == "completed" and job["failed_updates"] == 1, job
    assert count(files, "imports") == uploads
    assert count(files, "imports", uploads=False) == made + 1
    assert clerk.get("petshop", job["result"]["errors_csv_url"]).status_code == 200


def test_a_document_that_cannot_be_read_leaves_nothing_and_can_be_sent_again(vet, files, tmp_path):
    owner = vet.post("veterinaria", "/propietarios/", json={"full_name": "Ana Ruiz"}).json()
    pet = vet.post("veterinaria", "/mascotas/", json={"name": "Lola", "species": "canino", "owner_id": owner["id"]}).json()
    whole = write_pdf(tmp_path / "entero.pdf", [render_page(["ANÁLISIS", secrets.token_hex(8)], dpi=100)])
    broken = write_truncated_pdf(tmp_path / "cortado.pdf", whole)
    before = count(files, "documents")

    outcomes = []
    for _ in range(2):  # the same broken file twice: read again each time, never a pointer to a lost file
        with open(broken, "rb") as handle:
            accepted = vet.post("veterinaria", "/historias-clinicas/", files={"file": ("cortado.pdf", handle)},
                                data={"mascota_id": str(pet["id"])})
        assert accepted.status_code == 202, accepted.text
        job = wait_for_status(vet, "veterinaria", accepted.json()["status_url"], timeout=120)
        outcomes.append((job["status"], job["result"]))
        assert count(files, "documents") == before

    assert outcomes == [("failed", None), ("failed", None)]
    listed = vet.get("veterinaria", f"/mascotas/{pet['id']}/documentos/").json()
    assert [document["status"] for document in listed] == ["failed"]
