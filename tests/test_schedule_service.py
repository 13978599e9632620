"""Schedules on the database under test: two dispatchers racing for the same runs, and the storage cleanup."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from common import jobs
from common.celery_app import create_celery_app
from common.config import Settings
from common.db import session_scope, utcnow
from common.enqueue import Enqueuer
from common.schedules import service
from common.schedules.cleanup import clean_storage
from common.schedules.models import Schedule
from common.storage import LocalStorage
from petshop.app.schedules import CLEANUP, KINDS
from veterinaria.app.models import Document
from veterinaria.app.schedules import CLEANUP as VET_CLEANUP

ROOMY = jobs.JobQuota(max_active=1000, retry_after_seconds=1)


@pytest.fixture(scope="module")
def enqueuer(redis_url):
    # a real broker, on a Redis database no worker reads: the messages wait there unread
    celery = create_celery_app(Settings(_env_file=None, redis_url=redis_url.rsplit("/", 1)[0] + "/4"))
    return Enqueuer(celery=celery, service="petshop", timeout=5, quota=ROOMY)


def due_schedule(sessions, *, interval: int = 60) -> int:
    with session_scope(sessions) as session:
        schedule = Schedule(
            service="petshop", name="Limpieza", kind="storage_cleanup", params={"older_than_days": 30},
            timezone="UTC", interval_seconds=interval, enabled=True, owner_id=1, owner_username="admin",
            next_run_at=utcnow() - timedelta(seconds=interval * 5.5), run_count=0,
        )
        session.add(schedule)
        session.flush()
        return schedule.id


def jobs_of_owner(sessions, owner_id: int) -> int:
    with session_scope(sessions) as session:
        return session.scalar(select(func.count()).select_from(jobs.Job).where(jobs.Job.owner_id == owner_id))


def test_two_dispatchers_racing_for_the_same_due_runs_fire_each_once(sessions, enqueuer):
    ids = [due_schedule(sessions) for _ in range(8)]
    start_together = threading.Barrier(2)
    fired: list[str | None] = []

    def dispatcher():
        for schedule_id in ids:
            start_together.wait()
            with session_scope(sessions) as session:
                fired.append(service.fire(session=session, schedule_id=schedule_id, kinds=KINDS, enqueuer=enqueuer,
                                          now=utcnow()))

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    made = [job_id for job_id in fired if job_id is not None]
    assert len(fired) == 16 and len(made) == 8 == len(set(made))
    with session_scope(sessions) as session:
        for schedule_id in ids:
            schedule = session.get(Schedule, schedule_id)
            # five and a half periods were missed: one run, and the next one in the future, in phase
            assert schedule.run_count == 1 and schedule.last_job_id in made and schedule.last_error is None
            assert schedule.next_run_at > schedule.last_run_at
            job = session.get(jobs.Job, schedule.last_job_id)
            assert (job.kind, job.owner_username, job.status) == ("storage_cleanup", "admin", "queued")


def test_a_run_that_cannot_make_its_job_is_skipped_and_says_why(sessions, enqueuer):
    with session_scope(sessions) as session:
        schedule = Schedule(
            service="petshop", name="Stock bajo", kind="inventory_report",
            params={"store_id": 999_999, "report_type": "stock_low"},  # the store was deleted since
            timezone="Europe/Madrid", cron="30 7 * * *", enabled=True, owner_id=2, owner_username="jefa",
            next_run_at=utcnow() - timedelta(seconds=1), run_count=0,
        )
        session.add(schedule)
        session.flush()
        schedule_id = schedule.id
    with session_scope(sessions) as session:
        assert service.fire(session=session, schedule_id=schedule_id, kinds=KINDS, enqueuer=enqueuer, now=utcnow()) is None
    with session_scope(sessions) as session:
        schedule = session.get(Schedule, schedule_id)
        assert schedule.last_error_code == "store_not_found" and "tienda" in schedule.last_error
        assert schedule.run_count == 1 and schedule.next_run_at > utcnow()  # not retried every tick
    assert jobs_of_owner(sessions, 2) == 0


# --- the storage cleanup ------------------------------------------------------------------------------


def put(storage: LocalStorage, key: str, *, days_old: float) -> str:
    storage.save_bytes(b"x" * 100, key=key)
    moment = (utcnow() - timedelta(days=days_old)).timestamp()
    os.utime(storage.root / key, (moment, moment))
    return key


def job_row(sessions, *, status: str, kind: str = "inventory_import", service_name: str = "petshop",
            params: dict | None = None) -> str:
    with session_scope(sessions) as session:
        job = jobs.Job(id=str(uuid.uuid4()), service=service_name, kind=kind, task_name="t", owner_id=1,
                       owner_username="admin", status=status, params=params or {})
        session.add(job)
        return job.id


def test_the_cleanup_deletes_old_files_nothing_needs_and_keeps_the_rest(sessions, tmp_path: Path):
    storage = LocalStorage(tmp_path / "files")
    waiting_upload = put(storage, "imports/2026/10/aaaa.csv", days_old=40)
    job_row(sessions, status="queued", params={"file_key": waiting_upload, "discard_when_finished": [waiting_upload]})
    failed_upload = put(storage, "imports/2026/10/bbbb.csv", days_old=40)
    job_row(sessions, status="failed", params={"file_key": failed_upload})
    young_upload = put(storage, "imports/2026/12/cccc.csv", days_old=2)
    old_import = job_row(sessions, status="completed")
    old_errors = put(storage, f"imports/{old_import}/errores.csv", days_old=31)
    running_report = job_row(sessions, status="processing", kind="inventory_report")
    running_files = put(storage, f"reports/{running_report}/informe.csv", days_old=45)
    old_report = job_row(sessions, status="completed", kind="inventory_report")
    old_report_files = [put(storage, f"reports/{old_report}/informe.{ext}", days_old=60) for ext in ("csv", "xlsx")]
    vet_report = job_row(sessions, status="completed", kind="medical_report", service_name="veterinaria")
    vet_pdf = put(storage, f"reports/{vet_report}/informe.pdf", days_old=60)
    document = put(storage, "documents/2026/01/dddd.pdf", days_old=300)  # not petshop's folder
    crashed_upload = put(storage, "imports/2026/09/.eeee.csv.part", days_old=90)

    with session_scope(sessions) as session:
        result = clean_storage(session=session, storage=storage, scope=CLEANUP, older_than_days=30, now=utcnow())

    gone = {failed_upload, old_errors, *old_report_files, crashed_upload}
    assert {item["key"] for item in result["deleted"]} == gone
    assert result["deleted_total"] == 5 and result["deleted_bytes"] == 500
    for key in gone:
        assert not (storage.root / key).exists()
    for key in (waiting_upload, young_upload, running_files, vet_pdf, document):
        assert (storage.root / key).exists(), key
    assert result["kept_needed"] == 3 and result["kept_recent"] == 1
    assert result["summary"].startswith("Se borraron 5 archivos de más de 30 días")


def test_the_veterinaria_cleanup_keeps_the_files_of_documents_it_holds(sessions, tmp_path: Path):
    storage = LocalStorage(tmp_path / "files")
    read_document = put(storage, "documents/2026/01/read.pdf", days_old=400)
    failed_document = put(storage, "documents/2026/01/failed.pdf", days_old=400)  # re-uploading brings it back
    orphan = put(storage, "documents/2026/01/orphan.pdf", days_old=400)
    with session_scope(sessions) as session:
        for key, status in ((read_document, "processed"), (failed_document, "failed")):
            session.add(Document(file_key=key, file_kind="pdf", size=100, sha256=uuid.uuid4().hex * 2,
                                 status=status, uploaded_by=1))

    with session_scope(sessions) as session:
        result = clean_storage(session=session, storage=storage, scope=VET_CLEANUP, older_than_days=1, now=utcnow())

    assert sorted(item["key"] for item in result["deleted"]) == [failed_document, orphan]
    assert (storage.root / read_document).exists() and not (storage.root / orphan).exists()
