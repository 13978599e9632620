"""Celery tasks of the veterinaria service (queue `veterinaria`). Each takes a job id and calls the pipeline of its job."""

from __future__ import annotations

import time

from celery import signals
from celery.exceptions import SoftTimeLimitExceeded

from common import jobs
from common.celery_app import app
from common.config import get_settings
from common.errors import BadInput
from common.notify.tasks import register_notification_tasks
from common.telemetry import job_metrics
from common.worker import JobTask, ProgressReporter, load_job, register_platform_tasks, task_session, worker_storage
from veterinaria.app.documents import pipeline as documents
from veterinaria.app.documents.read import close_pool
from veterinaria.app.models import Document
from veterinaria.app.notifications import SUMMARIES
from veterinaria.app.reports.pipeline import generate_medical_report as build_medical_report

reconcile_jobs, run_diagnostic = register_platform_tasks(app, "veterinaria")
notify_job_finished, deliver_notification = register_notification_tasks(app, "veterinaria", SUMMARIES)


@signals.worker_process_shutdown.connect
def _stop_ocr_helpers(**_kwargs) -> None:
    close_pool()


@app.task(base=JobTask)
def process_medical_document(job_id: str) -> dict:
    """Read a clinical document (text layer or OCR) and file it in the pet's history (seed task)."""
    job = load_job(job_id)
    document_id = job.params["document_id"]
    with task_session() as session:
        document = session.get(Document, document_id)
    if document.status == "processed":  # the same file again: point to what we already read
        return documents.result_of(document, job_id=job_id, duplicate=True)
    progress = ProgressReporter(job_id)
    started = time.perf_counter()
    try:
        text = documents.read_document(
            storage=worker_storage(), document=document, settings=get_settings(),
            on_page=lambda done, total: progress(90 * done / max(total, 1)),
        )
    except (BadInput, SoftTimeLimitExceeded):  # the file, not the system: a retry would fail the same way
        with task_session() as session:
            unreadable = documents.mark_failed(session=session, document_id=document_id)
        if unreadable:  # after the commit; the same file uploaded again brings the document back
            worker_storage().delete(unreadable)
        raise
    job_metrics.record_document_read(pages=text.pages, seconds=time.perf_counter() - started)
    with task_session() as session:
        result = documents.file_results(
            session=session, job_id=job_id, document_id=document_id, text=text,
            document_type=job.params.get("document_type"), mascota_id=job.params.get("mascota_id"),
            seconds=time.perf_counter() - started,
        )
        jobs.complete(session=session, job_id=job_id, result=result)
    return result


@app.task(base=JobTask)
def generate_medical_report(job_id: str) -> dict:
    """Build a pet's consolidated medical report as PDF (seed task)."""
    job = load_job(job_id)
    with task_session() as session:
        return build_medical_report(session=session, storage=worker_storage(), job_id=job_id, pet_id=job.params["pet_id"])
