"""Job controls with real workers: cancel a queued job (it never starts), cancel a running import or
OCR mid-way (nothing written), and an admin's retry of a cancelled or failed job with the same file.

The large import is big enough to be cancelled while it runs on a fast machine; once the cancel is
recorded, the job cannot complete (the worker checks the request under the row lock before its commit).

One stack of its own (uploads up to 64 MB for the large import), and one worker started once the
queued-job story has shown that a cancelled job's message is skipped.
"""

from __future__ import annotations

import secrets

import pytest

from tests.conftest import Client, login
from tests.jobs_helpers import submit_diagnostic, wait_for_job
from tests.servers import Stack, wait_until
from tests.veterinaria.pages import render_page, write_pdf

FINISHED = ("completed", "failed", "cancelled")
LARGE_IMPORT_ROWS = 250_000


@pytest.fixture(scope="module")
def controls_stack(work_dir, new_database_url, redis_server):
    running = Stack(
        base_dir=work_dir / "controls", database_url=new_database_url("timon_controls"),
        # a Redis database of its own: no other stack's worker takes its jobs
        redis_url=f"redis://127.0.0.1:{redis_server.port}/9", extra_env={"MAX_UPLOAD_MB": "64"},
    )
    try:
        running.start(workers=0)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def worker(controls_stack):
    started = controls_stack.start_worker()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def admin(controls_stack) -> Client:
    return Client(controls_stack, login(controls_stack, "admin", controls_stack.admin_password))


def make_user(stack: Stack, admin: Client, role: str) -> Client:
    username, password = f"{role}-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    response = admin.post("auth", "/users/", json={"username": username, "password": password, "role": role})
    assert response.status_code == 201, response.text
    client = Client(stack, login(stack, username, password))
    client.username = username
    return client


@pytest.fixture(scope="module")
def clerk(controls_stack, admin) -> Client:
    return make_user(controls_stack, admin, "empleado")


@pytest.fixture(scope="module")
def store(admin) -> dict:
    response = admin.post("petshop", "/tiendas/", json={"name": f"Tienda {secrets.token_hex(3)}"})
    assert response.status_code == 201, response.text
    return response.json()


def inventory_csv(rows: int) -> bytes:
    prefix = secrets.token_hex(3).upper()
    lines = ["sku;nombre;stock;precio", *(f"{prefix}{i:07d};Producto {i};{i % 50};{1 + i % 90},95" for i in range(rows))]
    return ("\n".join(lines) + "\n").encode()


def submit_import(client: Client, store: dict, content: bytes, name: str = "inventario.csv") -> str:
    response = client.post("petshop", "/upload-inventario/", files={"file": (name, content)},
                           data={"store_id": str(store["id"])})
    assert response.status_code == 202, response.text
    return response.json()["task_id"]


def stock_count(client: Client, store: dict) -> int:
    return len(client.get("petshop", f"/tiendas/{store['id']}/stock/", params={"limit": 10}).json())


def test_a_queued_job_cancelled_by_its_owner_never_starts(controls_stack, request, clerk, admin, store):
    job_id = submit_import(clerk, store, inventory_csv(3))  # no worker yet: it waits in the queue
    stranger = make_user(controls_stack, admin, "empleado")

    assert stranger.post("petshop", f"/jobs/{job_id}/cancel").status_code == 404  # not theirs: it looks absent
    response = clerk.post("petshop", f"/jobs/{job_id}/cancel")

    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled" and cancelled["error_code"] == "job_cancelled"
    assert cancelled["error"].startswith(f"Cancelado por {clerk.username}.")
    again = clerk.post("petshop", f"/jobs/{job_id}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "job_already_finished"
    assert "no se puede cancelar" in again.json()["detail"]

    worker = request.getfixturevalue("worker")  # its message reaches a worker now, which skips it
    wait_until(lambda: f"job {job_id} already cancelled; not running it again" in worker.log(), timeout=60,
               what="the worker to skip the cancelled job")
    after = clerk.get("petshop", f"/jobs/{job_id}").json()
    assert after["status"] == "cancelled" and after["attempts"] == 0
    assert stock_count(clerk, store) == 0

    # its file was kept: an admin's retry runs it for the clerk, who owns the new job
    assert clerk.post("petshop", f"/jobs/{job_id}/retry").status_code == 403
    retried = admin.post("petshop", f"/jobs/{job_id}/retry")
    assert retried.status_code == 202, retried.text
    redone = wait_for_job(clerk, "petshop", retried.json()["task_id"], statuses=FINISHED)
    assert redone["status"] == "completed", redone
    assert redone["retry_of"] == job_id and redone["owner_username"] == clerk.username and redone["kind"] == "inventory_import"
    assert stock_count(clerk, store) == 3
    listed = {j["id"]: j for j in clerk.get("petshop", "/jobs/", params={"kind": "inventory_import"}).json()}
    assert listed[redone["id"]]["retry_of"] == job_id and listed[job_id]["status"] == "cancelled"


def test_a_running_import_cancelled_midway_writes_no_stock(worker, clerk, admin):
    store = admin.post("petshop", "/tiendas/", json={"name": f"Tienda {secrets.token_hex(3)}"}).json()
    job_id = submit_import(clerk, store, inventory_csv(LARGE_IMPORT_ROWS), name="grande.csv")
    wait_until(lambda: clerk.get("petshop", f"/jobs/{job_id}").json()["progress"] > 0, timeout=120,
               what="the import to be under way")

    response = admin.post("petshop", f"/jobs/{job_id}/cancel")  # an admin may cancel anyone's job

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "processing" and response.json()["cancel_requested"] is True
    job = wait_for_job(clerk, "petshop", job_id, statuses=FINISHED, timeout=120)
    assert job["status"] == "cancelled", job
    assert job["error_code"] == "job_cancelled" and job["error"].startswith("Cancelado por admin.")
    assert job["progress"] < 100 and job["result"] is None
    assert stock_count(clerk, store) == 0  # the import's transaction rolled back


def test_only_a_failed_or_cancelled_job_with_its_file_still_kept_can_be_retried(worker, clerk, admin, store, controls_stack):
    done = wait_for_job(clerk, "petshop", submit_import(clerk, store, inventory_csv(2)), statuses=FINISHED)
    assert done["status"] == "completed"
    refused = admin.post("petshop", f"/jobs/{done['id']}/retry")
    assert refused.status_code == 409 and refused.json()["code"] == "job_not_retryable"
    assert "fallido o cancelado" in refused.json()["detail"]

    failed = wait_for_job(clerk, "petshop", submit_import(clerk, store, b"SKU;Nombre;Stock\nA1;x;1\n"), statuses=FINISHED)
    assert failed["status"] == "failed" and "Precio" in failed["error"]
    uploads = controls_stack.base_dir / "var" / "files" / "imports"
    kept = [path for path in uploads.rglob("*") if path.is_file() and path.name != "errores.csv"]
    assert kept, "a failed import keeps its upload for a retry"
    again = admin.post("petshop", f"/jobs/{failed['id']}/retry")
    assert again.status_code == 202  # the same file fails the same way, but it was read again
    assert wait_for_job(clerk, "petshop", again.json()["task_id"], statuses=FINISHED)["status"] == "failed"

    for path in kept:  # what the clean-up schedule does to old inputs
        path.unlink()
    gone = admin.post("petshop", f"/jobs/{failed['id']}/retry")
    assert gone.status_code == 409 and gone.json()["code"] == "job_input_gone"
    assert "ya no se conserva" in gone.json()["detail"]


def test_a_failed_diagnostic_is_retried_as_a_new_job_and_a_running_one_can_be_cancelled(worker, admin):
    failed = wait_for_job(admin, "veterinaria", submit_diagnostic(admin, "veterinaria", fail_with="bad_input"),
                          statuses=FINISHED)
    assert failed["status"] == "failed"
    retried = admin.post("veterinaria", f"/jobs/{failed['id']}/retry")
    assert retried.status_code == 202
    assert admin.get("veterinaria", f"/jobs/{retried.json()['task_id']}").json()["retry_of"] == failed["id"]

    running = submit_diagnostic(admin, "veterinaria", steps=100, step_seconds=0.2)
    wait_for_job(admin, "veterinaria", running, statuses=("processing",))
    assert admin.post("veterinaria", f"/jobs/{running}/cancel").status_code == 202
    stopped = wait_for_job(admin, "veterinaria", running, statuses=FINISHED)
    assert stopped["status"] == "cancelled" and stopped["progress"] < 100


def test_a_running_ocr_of_a_scanned_document_cancelled_midway_files_nothing(worker, admin, tmp_path):
    vet = make_user(admin.stack, admin, "veterinario")
    pages = [render_page([f"Página {n}", "Paciente: Luna    Especie: Canino", "Hemoglobina 12.5 g/dL (12-18)"])
             for n in range(1, 5)]
    path = write_pdf(tmp_path / "escaneo.pdf", pages)
    with open(path, "rb") as handle:
        response = vet.post("veterinaria", "/historias-clinicas/", files={"file": ("escaneo.pdf", handle)})
    assert response.status_code == 202, response.text
    job_id = response.json()["task_id"]
    wait_until(lambda: vet.get("veterinaria", f"/jobs/{job_id}").json()["progress"] > 0, timeout=120,
               what="the first page read")

    assert vet.post("veterinaria", f"/jobs/{job_id}/cancel").status_code == 202

    job = wait_for_job(vet, "veterinaria", job_id, statuses=FINISHED, timeout=120)
    assert job["status"] == "cancelled", job
    assert job["error"].startswith(f"Cancelado por {vet.username}.")
    found = vet.get("veterinaria", "/historias-clinicas/buscar", params={"q": "hemoglobina"})
    assert found.status_code == 200 and found.json() == []  # nothing it read was filed
