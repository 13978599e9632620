"""The system on an S3 bucket (moto's server over HTTP): imports and OCR read from the bucket, reports
are downloaded through the services, discarded inputs are deleted, and an unreachable bucket is a 503
at upload and a retry in a job, never a 500.
"""

from __future__ import annotations

import re
import secrets

import pytest

from tests.conftest import Client, login
from tests.jobs_helpers import wait_for_job, wait_for_status
from tests.s3_server import MotoS3Server
from tests.servers import Stack, wait_until
from tests.veterinaria.pages import render_page, write_image, write_pdf

BUCKET = "timon-files"
PREFIX = "stack"
REDIS_DB = 13  # a Redis database of its own: no other stack's worker takes these jobs


@pytest.fixture(scope="module")
def s3_server():
    server = MotoS3Server().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3_stack(work_dir, new_database_url, redis_server, s3_server):
    running = Stack(
        base_dir=work_dir / "s3",
        database_url=new_database_url("timon_s3"),
        redis_url=f"redis://127.0.0.1:{redis_server.port}/{REDIS_DB}",
        extra_env={**s3_server.env(BUCKET, PREFIX), "TASK_MAX_RETRIES": "20", "TASK_RETRY_BACKOFF_MAX": "2",
                   "WORKER_SOFT_SHUTDOWN_TIMEOUT": "1"},
    )
    try:
        # what compose's init one-shot runs: the bucket is created when missing
        assert f"created bucket {BUCKET}" in running.run("-m", "common.storage", "ensure-bucket").stdout
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def admin(s3_stack) -> Client:
    return Client(s3_stack, login(s3_stack, "admin", s3_stack.admin_password))


def user(stack: Stack, admin: Client, role: str) -> Client:
    username, password = f"{role}-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    assert admin.post("auth", "/users/", json={"username": username, "password": password, "role": role}).status_code == 201
    return Client(stack, login(stack, username, password))


@pytest.fixture(scope="module")
def clerk(s3_stack, admin) -> Client:
    return user(s3_stack, admin, "empleado")


@pytest.fixture(scope="module")
def vet(s3_stack, admin) -> Client:
    return user(s3_stack, admin, "veterinario")


@pytest.fixture(scope="module")
def store(admin) -> dict:
    response = admin.post("petshop", "/tiendas/", json={"name": f"Tienda S3 {secrets.token_hex(3)}"})
    assert response.status_code == 201, response.text
    return response.json()


def bucket_keys(s3_server, under: str) -> list[str]:
    return s3_server.keys(BUCKET, f"{PREFIX}/{under}")


def uploaded_files(s3_server) -> list[str]:
    """The uploads kept in the bucket (`imports/<year>/<month>/<name>`), not the jobs' own files
    (`imports/<job id>/errores.csv`: a job id may begin with the year's digit too)."""
    return [key for key in bucket_keys(s3_server, "imports/") if re.fullmatch(rf"{PREFIX}/imports/\d{{4}}/\d{{2}}/[^/]+", key)]


def test_an_inventory_file_is_imported_from_the_bucket_and_its_failed_rows_downloaded(clerk, store, s3_server, s3_stack):
    uploads_before = uploaded_files(s3_server)
    content = b"SKU,Nombre,Stock,Precio\nS3-001,Pienso,4,9.99\nS3-002,Arena,-3,2.50\n"

    response = clerk.post("petshop", "/upload-inventario/", files={"file": ("lista.csv", content)},
                          data={"store_id": str(store["id"])})
    assert response.status_code == 202, response.text
    job = wait_for_status(clerk, "petshop", f"/inventario/task/{response.json()['task_id']}")

    assert job["status"] == "completed", job
    assert job["result"]["successful_updates"] == 1 and job["result"]["failed_updates"] == 1
    errors = clerk.get("petshop", job["result"]["errors_csv_url"])
    assert errors.status_code == 200 and "S3-002" in errors.text
    assert errors.headers["content-length"] == str(len(errors.content))
    assert errors.headers["content-disposition"].startswith("attachment;")
    assert f"{PREFIX}/imports/{job['task_id']}/errores.csv" in bucket_keys(s3_server, f"imports/{job['task_id']}")
    # the upload itself is discarded once the import has ended (just after the job's commit)
    wait_until(lambda: uploaded_files(s3_server) == uploads_before, timeout=60, what="the upload deleted")
    assert not (s3_stack.base_dir / "var" / "files").exists()  # nothing went to the local folder


def test_a_scan_is_read_from_the_bucket_and_the_pets_report_downloaded(vet, s3_server, tmp_path):
    owner = vet.post("veterinaria", "/propietarios/", json={"full_name": "Lucía Ñúñez"}).json()
    pet = vet.post("veterinaria", "/mascotas/", json={"name": "Tofu", "species": "canino", "owner_id": owner["id"]}).json()
    scan = write_image(tmp_path / "analitica.png", render_page(["ANÁLISIS DE SANGRE", "Paciente: Tofu", "Glucosa 95 mg/dL"]))

    with open(scan, "rb") as handle:
        response = vet.post("veterinaria", "/historias-clinicas/", files={"file": (scan.name, handle)},
                            data={"mascota_id": str(pet["id"])})
    assert response.status_code == 202, response.text
    job = wait_for_status(vet, "veterinaria", f"/historias-clinicas/task/{response.json()['task_id']}", timeout=120)

    assert job["status"] == "completed", job
    assert "Tofu" in job["extracted_text"]  # OCR of the copy the worker took from the bucket
    assert f"{PREFIX}/{job['file_path']}" in bucket_keys(s3_server, "documents/")

    accepted = vet.post("veterinaria", f"/mascotas/{pet['id']}/reportes/").json()
    report = wait_for_status(vet, "veterinaria", accepted["status_url"])
    assert report["status"] == "completed", report
    pdf = vet.get("veterinaria", report["result"]["pdf_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-length"] == str(len(pdf.content))


def test_a_document_that_cannot_be_read_leaves_the_bucket(vet, s3_server, tmp_path):
    locked = write_pdf(tmp_path / "cerrado.pdf", [["Informe", "Paciente: Tofu"]], password="secreto")

    with open(locked, "rb") as handle:
        response = vet.post("veterinaria", "/historias-clinicas/", files={"file": (locked.name, handle)})
    assert response.status_code == 202, response.text
    job = wait_for_status(vet, "veterinaria", f"/historias-clinicas/task/{response.json()['task_id']}")

    assert job["status"] == "failed", job
    assert wait_for_job(vet, "veterinaria", job["task_id"])["error_code"] == "pdf_password"
    # nobody needs the file of a failed document: it is deleted from the bucket
    wait_until(lambda: f"{PREFIX}/{job['file_path']}" not in bucket_keys(s3_server, "documents/"), timeout=30,
               what="the unreadable document's file deleted")


def test_a_report_whose_file_left_the_bucket_is_404_file_gone(clerk, store, s3_server):
    response = clerk.post("petshop", "/reportes/inventario/", params={"store_id": store["id"], "report_type": "inventory_value"})
    job = wait_for_job(clerk, "petshop", response.json()["task_id"])
    assert job["status"] == "completed", job
    for key in bucket_keys(s3_server, f"reports/{job['id']}/"):
        s3_server.client().delete_object(Bucket=BUCKET, Key=key)

    gone = clerk.get("petshop", job["result"]["xlsx_url"])
    assert gone.status_code == 404 and gone.json()["code"] == "file_gone"


def test_while_the_bucket_is_unreachable_uploads_get_503_and_jobs_retry_until_it_is_back(clerk, store, s3_server):
    s3_server.stop()
    try:
        refused = clerk.post("petshop", "/upload-inventario/", files={"file": ("l.csv", b"SKU,Nombre,Stock,Precio\n1,a,1,1\n")},
                             data={"store_id": str(store["id"])})
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "storage_unavailable" and "almacenamiento" in refused.json()["detail"]
        assert refused.headers["retry-after"]

        # a report needs the bucket only to keep its files: its job is queued, then waits for the bucket
        accepted = clerk.post("petshop", "/reportes/inventario/", params={"store_id": store["id"], "report_type": "stock_low"})
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["task_id"]
        wait_for_job(clerk, "petshop", job_id, statuses=("retrying",))
    finally:
        s3_server.start()

    job = wait_for_job(clerk, "petshop", job_id)
    assert job["status"] == "completed", job
    assert clerk.get("petshop", job["result"]["xlsx_url"]).content[:2] == b"PK"
