"""Celery tasks of the petshop service (queue `petshop`). Each takes a job id and calls one pipeline function."""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import job_files, jobs
from common.celery_app import app
from common.config import get_settings
from common.notify.tasks import register_notification_tasks
from common.worker import JobTask, ProgressReporter, load_job, register_platform_tasks, task_session, worker_storage
from petshop.app.imports.pipeline import import_inventory
from petshop.app.notifications import SUMMARIES
from petshop.app.prices.pipeline import apply_price_update
from petshop.app.reports.pipeline import generate_report

reconcile_jobs, run_diagnostic = register_platform_tasks(app, "petshop")
notify_job_finished, deliver_notification = register_notification_tasks(app, "petshop", SUMMARIES)
job_files.install(worker_storage)  # an import's upload goes once the job has ended


@app.task(base=JobTask)
def process_inventory_file(job_id: str) -> dict:
    """Import a CSV/XLSX/ODS inventory file into a store (seed task)."""
    job = load_job(job_id)
    with tempfile.TemporaryDirectory(prefix="timon-import-") as workdir, task_session() as session:
        result = import_inventory(
            session=session, storage=worker_storage(), job_id=job_id, params=job.params, workdir=Path(workdir),
            report_progress=ProgressReporter(job_id), memory_budget=get_settings().file_memory_budget_bytes,
        )
        # in the same transaction as the stock: a redelivered message finds the job finished
        jobs.complete(session=session, job_id=job_id, result=result)
    return result


@app.task(base=JobTask)
def update_product_prices(job_id: str) -> dict:
    """Apply a bulk price change to one store (seed task)."""
    job = load_job(job_id)
    with task_session() as session:
        result = apply_price_update(session=session, job_id=job_id, params=job.params)
        jobs.complete(session=session, job_id=job_id, result=result)
    return result


@app.task(base=JobTask)
def generate_inventory_report(job_id: str) -> dict:
    """Build an inventory report as JSON, CSV and XLSX (seed task)."""
    job = load_job(job_id)
    with task_session() as session:
        return generate_report(session=session, storage=worker_storage(), job_id=job_id, params=job.params)
