"""A long scan read as one Celery task a page, by every worker there is: pages joined in order, the job's
progress counting pages, and the document job's promises kept — a page task killed mid-OCR is read
again, a cancelled scan files nothing, the job ends once, and no page row or page file is left.

One stack of its own with a Redis of its own, fan-out from 4 pages on, and two workers of one process
each, so that two pages can only run at once on two different workers.
"""

from __future__ import annotations

import re
import secrets

import psutil
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import Client, login
from tests.jobs_helpers import wait_for_job
from tests.servers import RedisServer, Stack, wait_until
from tests.veterinaria.pages import render_page, write_pdf

FANOUT_MIN_PAGES = 4
FINISHED = ("completed", "failed", "cancelled")


@pytest.fixture(scope="module")
def page_stack(work_dir, new_database_url):
    redis_server = RedisServer(work_dir / "page-tasks-redis", work_dir / "logs").start()
    database_url = new_database_url("timon_page_tasks")
    running = Stack(base_dir=work_dir / "page-tasks", database_url=database_url, redis_url=redis_server.url,
                    extra_env={"OCR_FANOUT_MIN_PAGES": str(FANOUT_MIN_PAGES), "TASK_RETRY_DELAY_SECONDS": "1"})
    running.database_url = database_url
    try:
        running.start(workers=0)
        running.start_worker(concurrency=1, name="pages-a@%h")
        running.start_worker(concurrency=1, name="pages-b@%h")
        yield running
    finally:
        running.stop()
        redis_server.stop()


@pytest.fixture(scope="module")
def vet(page_stack) -> Client:
    admin = Client(page_stack, login(page_stack, "admin", page_stack.admin_password))
    username, password = f"vet-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    response = admin.post("auth", "/users/", json={"username": username, "password": password, "role": "veterinario"})
    assert response.status_code == 201, response.text
    client = Client(page_stack, login(page_stack, username, password))
    client.username = username
    return client


def scan(tmp_path, pages: int, tag: str):
    images = [render_page([f"Página {n} de {pages}", f"Informe {tag}", "Paciente: Luna    Especie: Canino",
                           f"Hemoglobina {10 + n}.5 g/dL (12-18)"]) for n in range(1, pages + 1)]
    return write_pdf(tmp_path / f"{tag}.pdf", images)


def upload(vet: Client, path) -> str:
    with open(path, "rb") as handle:
        response = vet.post("veterinaria", "/historias-clinicas/", files={"file": (path.name, handle)})
    assert response.status_code == 202, response.text
    return response.json()["task_id"]


def leftovers(stack: Stack, job_id: str) -> tuple[int, list]:
    """Page rows in the database and page files in storage that a job left behind."""
    engine = create_engine(stack.database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT count(*) FROM vet_page_reads WHERE job_id = :id"), {"id": job_id}).scalar()
    engine.dispose()
    folder = stack.base_dir / "var" / "files" / "pages" / job_id
    return rows, sorted(folder.glob("*")) if folder.exists() else []


def test_a_long_scan_is_read_page_by_page_by_both_workers_and_joined_in_order(vet, page_stack, tmp_path):
    job_id = upload(vet, scan(tmp_path, 6, "largo"))

    job = wait_for_job(vet, "veterinaria", job_id, timeout=240)

    assert job["status"] == "completed", job
    assert job["attempts"] == 1 and job["worker"].startswith("pages-")
    result = job["result"]
    assert result["page_tasks"] == 6
    assert sorted(worker.split("@")[0] for worker in result["page_workers"]) == ["pages-a", "pages-b"]  # both read pages
    assert sum(result["page_workers"].values()) == 6
    assert [page["number"] for page in result["pages"]] == [1, 2, 3, 4, 5, 6]
    for page in result["pages"]:
        assert f"Página {page['number']} de 6" in page["text"]
    assert result["extracted_text"].index("Página 1 de 6") < result["extracted_text"].index("Página 6 de 6")
    # the rows go with the job's commit, the files right after it: a poll can see "completed" in between
    wait_until(lambda: leftovers(page_stack, job_id) == (0, []), timeout=30, what="page rows and files removed")


def test_a_short_document_keeps_the_single_task_path(vet, tmp_path):
    job_id = upload(vet, scan(tmp_path, FANOUT_MIN_PAGES - 1, "corto"))

    job = wait_for_job(vet, "veterinaria", job_id, timeout=240)

    assert job["status"] == "completed", job
    assert "page_tasks" not in job["result"]
    assert [page["number"] for page in job["result"]["pages"]] == [1, 2, 3]


def reading_a_page(log: str) -> bool:
    """A page task has been received and has not ended yet, by the worker's log."""
    received = set(re.findall(r"read_document_page\[([0-9a-f-]{36})\] received", log))
    ended = set(re.findall(r"read_document_page\[([0-9a-f-]{36})\] (?:succeeded|raised|retry)", log))
    return bool(received - ended)


def test_a_page_task_killed_mid_ocr_is_read_again_and_the_job_completes_once(vet, page_stack, tmp_path):
    victim = page_stack.workers[0]
    before = len(victim.log())
    job_id = upload(vet, scan(tmp_path, 5, "matado"))
    wait_until(lambda: reading_a_page(victim.log()[before:]), timeout=120, what="a page task running on the first worker")

    for child in psutil.Process(victim.pid).children(recursive=True):
        child.kill()  # as the OOM killer would, in the middle of that page

    job = wait_for_job(vet, "veterinaria", job_id, timeout=240)
    assert job["status"] == "completed", job
    assert job["attempts"] == 1  # the document job ran once; only the page was read again
    assert [page["number"] for page in job["result"]["pages"]] == [1, 2, 3, 4, 5]
    assert all(f"Página {p['number']} de 5" in p["text"] for p in job["result"]["pages"])
    assert "WorkerLostError" in victim.log()  # the kill did land inside a page task
    # the rows go with the job's commit, the files right after it: a poll can see "completed" in between
    wait_until(lambda: leftovers(page_stack, job_id) == (0, []), timeout=30, what="page rows and files removed")
    assert victim.alive()


def test_a_long_scan_cancelled_while_its_pages_are_read_files_nothing(vet, page_stack, tmp_path):
    job_id = upload(vet, scan(tmp_path, 8, "cancelado"))
    wait_until(lambda: vet.get("veterinaria", f"/jobs/{job_id}").json()["progress"] > 0, timeout=120,
               what="the first page read")

    assert vet.post("veterinaria", f"/jobs/{job_id}/cancel").status_code == 202

    job = wait_for_job(vet, "veterinaria", job_id, statuses=FINISHED, timeout=120)
    assert job["status"] == "cancelled", job
    assert job["progress"] < 100
    found = vet.get("veterinaria", "/historias-clinicas/buscar", params={"q": "cancelado"})
    assert found.status_code == 200 and found.json() == []
    # the pages still queued when it was cancelled end without reading; then nothing is left behind
    wait_until(lambda: leftovers(page_stack, job_id) == (0, []), timeout=120, what="page rows and files removed")
