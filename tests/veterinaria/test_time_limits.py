"""An OCR job past its soft time limit fails cleanly: a message, the document marked failed, the worker alive."""

from __future__ import annotations

import pytest

from tests.conftest import Client, login
from tests.jobs_helpers import wait_for_status
from tests.servers import Stack
from tests.veterinaria.pages import render_page, write_pdf


@pytest.fixture(scope="module")
def slow_stack(work_dir, new_database_url, redis_url):
    running = Stack(
        base_dir=work_dir / "time-limits",
        database_url=new_database_url("timon_time_limits"),
        redis_url=redis_url.rsplit("/", 1)[0] + "/10",  # its own Redis database: its own queues
        extra_env={"TASK_SOFT_TIME_LIMIT": "2", "TASK_TIME_LIMIT": "30", "OCR_PAGE_WORKERS": "1"},
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


def test_a_document_that_takes_too_long_fails_with_a_message_and_the_worker_goes_on(slow_stack, tmp_path):
    client = Client(slow_stack, login(slow_stack, "admin", slow_stack.admin_password))
    owner = client.post("veterinaria", "/propietarios/", json={"full_name": "Ana Paz"}).json()
    pet = client.post("veterinaria", "/mascotas/", json={"name": "Lento", "species": "canino", "owner_id": owner["id"]}).json()
    page = ["INFORME RADIOLÓGICO", "Paciente: Lento", *[f"Línea de texto número {n} del informe" for n in range(40)]]
    path = write_pdf(tmp_path / "largo.pdf", [render_page(page, dpi=300) for _ in range(6)])

    with open(path, "rb") as handle:
        response = client.post("veterinaria", "/historias-clinicas/", files={"file": ("largo.pdf", handle)},
                               data={"mascota_id": str(pet["id"])})
    job = wait_for_status(client, "veterinaria", f"/historias-clinicas/task/{response.json()['task_id']}", timeout=90)

    assert job["status"] == "failed"
    assert "tiempo límite" in job["error"]
    documents = client.get("veterinaria", f"/mascotas/{pet['id']}/documentos/").json()
    assert [d["status"] for d in documents] == ["failed"]
    report = client.post("veterinaria", f"/mascotas/{pet['id']}/reportes/").json()
    assert wait_for_status(client, "veterinaria", report["status_url"], timeout=60)["status"] == "completed"
