"""Celery tasks of the veterinaria service (queue `veterinaria`). Each gets its job and its transaction
from `JobTask` and calls the pipeline of its job; `JobTask` completes the job in that transaction."""

from __future__ import annotations

import time
from typing import Any

from celery import chord, group, signals
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.orm import Session

from common import jobs
from common.celery_app import app
from common.config import get_settings
from common.db import utcnow
from common.errors import BadInput
from common.notify.tasks import register_notification_tasks
from common.schedules.tasks import register_schedule_tasks
from common.telemetry import job_metrics
from common.worker import Deferred, JobPartTask, JobRun, JobTask, register_platform_tasks, task_session, worker_storage
from veterinaria.app import schedules
from veterinaria.app.documents import page_tasks
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
    A PDF of `OCR_FANOUT_MIN_PAGES` pages or more is handed on to one task a page instead (`_hand_pages_on`).
    """
    document_id = job.params["document_id"]
    with task_session() as lookup:
        document = lookup.get(Document, document_id)
    if document.status == "processed":  # the same file again: point to what we already read
        return documents.result_of(document, job_id=job.id, duplicate=True)
    started = time.perf_counter()
    try:
        handed_on = _hand_pages_on(job, document)
        if handed_on is not None:
            return handed_on
        text = documents.read_document(
            storage=worker_storage(), document=document, settings=get_settings(),
            on_page=lambda done, total: job.report_progress(90 * done / max(total, 1)),
        )
    except (BadInput, SoftTimeLimitExceeded):  # the file, not the system: a retry would fail the same way
        _mark_unreadable(document_id)
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


def _mark_unreadable(document_id: int) -> None:
    with task_session() as failed:
        unreadable = documents.mark_failed(session=failed, document_id=document_id)
    if unreadable:  # after the commit; the same file uploaded again brings the document back
        worker_storage().delete(unreadable)


# --- a long scan, one task a page (documents/page_tasks.py) ---------------------------------------


def _hand_pages_on(job: JobRun, document: Document) -> Deferred | None:
    """Send a long PDF's unread pages to page tasks joined by `file_document_pages`; None to read it here."""
    with task_session() as lookup:
        already_read = page_tasks.read_numbers(session=lookup, job_id=job.id)
    split = page_tasks.split_if_long(storage=worker_storage(), document=document, job_id=job.id,
                                     settings=get_settings(), already_read=already_read)
    if split is None:
        return None
    total, unread = split
    part = {"job_id": job.id, "document_id": document.id, "total": total}
    join = file_document_pages.si(**part)  # the readings meet in vet_page_reads, not in the chord's results
    if unread:
        chord(group(read_document_page.s(number=page.number, key=page.key, **part) for page in unread), join).apply_async()
    else:  # every page was read before this attempt: only the join is missing
        join.apply_async()
    return Deferred(f"{len(unread)} of {total} pages sent as page tasks")


class DocumentPartTask(JobPartTask):
    """A page task or the join: when the job fails, its page rows and files go, and a bad file's document too."""

    def after_job_failed(self, exc: BaseException | None, *, job_id: str, document_id: int, total: int, **_: Any) -> None:
        _forget_pages(job_id, total)
        if isinstance(exc, BadInput):
            _mark_unreadable(document_id)


def _forget_pages(job_id: str, total: int, cancelled_by: str | None = None, cancel: bool = False) -> None:
    with task_session() as session:
        if cancel:
            jobs.cancel(session=session, job_id=job_id, by=cancelled_by)
        page_tasks.forget_pages(session=session, job_id=job_id)
    page_tasks.delete_page_files(storage=worker_storage(), job_id=job_id, total=total)


def _still_wanted(job_id: str, total: int) -> bool:
    """False when the job has ended (its pages are tidied) or was asked to stop (it ends `cancelled` now)."""
    with task_session() as session:
        job = session.get(jobs.Job, job_id)
        finished = job is None or job.status in jobs.FINISHED
        cancel_by = job.cancel_requested_by if job is not None and job.cancel_requested else None
        cancelled = job is not None and job.cancel_requested
    if cancelled and not finished:
        _forget_pages(job_id, total, cancelled_by=cancel_by, cancel=True)
    return not (finished or cancelled)


@app.task(base=DocumentPartTask, bind=True)
def read_document_page(self, *, job_id: str, document_id: int, total: int, number: int, key: str) -> dict:
    """Read one page of a long scan and keep its reading; the job's progress counts the pages read."""
    if not _still_wanted(job_id, total):
        return {"number": number, "skipped": True}
    with task_session() as lookup:
        if number in page_tasks.read_numbers(session=lookup, job_id=job_id):  # a redelivered page, already kept
            return {"number": number, "skipped": True}
    started = time.perf_counter()
    reading = page_tasks.read_stored_page(storage=worker_storage(), page=page_tasks.StoredPage(number, key),
                                          settings=get_settings())
    try:
        with task_session() as session:
            done = page_tasks.keep_page(session=session, job_id=job_id, reading=reading, worker=self.request.hostname,
                                        seconds=time.perf_counter() - started, total=total)
    except jobs.JobCancelled as cancelled:  # the page is not kept; the job ends `cancelled`
        _forget_pages(job_id, total, cancelled_by=cancelled.by, cancel=True)
        return {"number": number, "skipped": True}
    return {"number": number, "worker": self.request.hostname, "pages_read": done}


@app.task(base=DocumentPartTask, bind=True)
def file_document_pages(self, *, job_id: str, document_id: int, total: int) -> dict | None:
    """Join a long scan's pages in order, file the document and complete its job, in one transaction."""
    if not _still_wanted(job_id, total):
        _forget_pages(job_id, total)
        return None
    try:
        with task_session() as session:
            job = session.get(jobs.Job, job_id)
            text, readers = page_tasks.joined_text(session=session, job_id=job_id, total=total)
            seconds = (utcnow() - job.started_at).total_seconds()
            result = documents.file_results(
                session=session, job_id=job_id, document_id=document_id, text=text, seconds=seconds,
                document_type=job.params.get("document_type"), mascota_id=job.params.get("mascota_id"),
            ) | {"page_tasks": total, "page_workers": readers}
            page_tasks.forget_pages(session=session, job_id=job_id)
            jobs.raise_if_cancel_requested(session=session, job_id=job_id, lock=True)
            jobs.complete(session=session, job_id=job_id, result=result)
    except jobs.JobCancelled as cancelled:  # the filing rolled back: nothing of the document changed
        _forget_pages(job_id, total, cancelled_by=cancelled.by, cancel=True)
        return None
    page_tasks.delete_page_files(storage=worker_storage(), job_id=job_id, total=total)
    job_metrics.record_document_read(pages=text.pages, seconds=seconds)
    return {"pages": total, "page_workers": readers}
