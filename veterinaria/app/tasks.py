"""Celery tasks of the veterinaria service (queue `veterinaria`). Each gets its job and its transaction
from `JobTask` and calls the pipeline of its job; `JobTask` completes the job in that transaction."""

from __future__ import annotations

import time

from celery import signals
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.orm import Session

from common.celery_app import app
from common.config import get_settings
from common.errors import BadInput
from common.notify.tasks import register_notification_tasks
from common.schedules.tasks import register_schedule_tasks
from common.telemetry import job_metrics
from common.worker import JobRun, JobTask, register_platform_tasks, task_session, worker_storage
from veterinaria.app import schedules
from veterinaria.app.documents import pipeline as documents
from veterinaria.app.documents.read import close_pool
from veterinaria.app.models import Document
from veterinaria.app.notifications import SUMMARIES
from veterinaria.app.reports.pipeline import generate_medical_report as build_medical_report

reconcile_jobs, run_diagnostic = register_platform_tasks(app, "veterinaria")
fire_schedules, clean_storage = register_schedule_tasks(app, schedules.KINDS, schedules.CLEANUP)
notify_job_finished, deliver_notification = register_notification_tasks(app, "veterinaria", SUMMARIES)


@signals.worker_process_shutdown.connect
def _stop_ocr_helpers(**_kwargs) -> None:
    close_pool()


@app.task(base=JobTask)
def process_medical_document(job: JobRun, session: Session) -> dict:
    """Read a clinical document (text layer or OCR) and file it in the pet's history (seed task).

    The reading takes seconds a page, so it happens before `session` is first used: no transaction
    (and on SQLite no write lock) is held meanwhile; the document is looked up in a short read of its own.
    """
    document_id = job.params["document_id"]
    with task_session() as lookup:
        document = lookup.get(Document, document_id)
    if document.status == "processed":  # the same file again: point to what we already read
        return documents.result_of(document, job_id=job.id, duplicate=True)
    started = time.perf_counter()
    try:
        text = documents.read_document(
            storage=worker_storage(), document=document, settings=get_settings(),
            on_page=lambda done, total: job.report_progress(90 * done / max(total, 1)),
        )
    except (BadInput, SoftTimeLimitExceeded):  # the file, not the system: a retry would fail the same way
        with task_session() as failed:
            unreadable = documents.mark_failed(session=failed, document_id=document_id)
        if unreadable:  # after the commit; the same file uploaded again brings the document back
            worker_storage().delete(unreadable)
        raise
    job_metrics.record_document_read(pages=text.pages, seconds=time.perf_counter() - started)
    return documents.file_results(
        session=session, job_id=job.id, document_id=document_id, text=text,
        document_type=job.params.get("document_type"), mascota_id=job.params.get("mascota_id"),
        seconds=time.perf_counter() - started,
    )


@app.task(base=JobTask)
def generate_medical_report(job: JobRun, session: Session) -> dict:
    """Build a pet's consolidated medical report as PDF (seed task)."""
    return build_medical_report(session=session, storage=worker_storage(), job_id=job.id, pet_id=job.params["pet_id"],
                                requested_by=job.owner_username)
