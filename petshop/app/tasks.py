"""Celery tasks of the petshop service (queue `petshop`). Each gets its job and its transaction from
`JobTask` and calls one pipeline function; `JobTask` completes the job in that transaction."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from common import job_files
from common.celery_app import app
from common.config import get_settings
from common.notify.tasks import register_notification_tasks
from common.schedules.tasks import register_schedule_tasks
from common.worker import JobRun, JobTask, register_platform_tasks, worker_storage
from petshop.app import schedules
from petshop.app.imports.pipeline import import_inventory
from petshop.app.notifications import SUMMARIES
from petshop.app.prices.pipeline import apply_price_update
from petshop.app.reports.pipeline import generate_report

reconcile_jobs, run_diagnostic = register_platform_tasks(app, "petshop")
fire_schedules, clean_storage = register_schedule_tasks(app, schedules.KINDS, schedules.CLEANUP)
notify_job_finished, deliver_notification = register_notification_tasks(app, "petshop", SUMMARIES)
job_files.install(worker_storage)  # an import's upload goes once the job has completed


@app.task(base=JobTask)
def process_inventory_file(job: JobRun, session: Session) -> dict:
    """Import a CSV/XLSX/ODS inventory file into a store (seed task)."""
    with tempfile.TemporaryDirectory(prefix="timon-import-") as workdir:
        return import_inventory(
            session=session, storage=worker_storage(), job_id=job.id, params=job.params, workdir=Path(workdir),
            report_progress=job.report_progress, memory_budget=get_settings().file_memory_budget_bytes,
        )


@app.task(base=JobTask)
def update_product_prices(job: JobRun, session: Session) -> dict:
    """Apply a bulk price change to one store (seed task)."""
    return apply_price_update(session=session, job_id=job.id, params=job.params)


@app.task(base=JobTask)
def generate_inventory_report(job: JobRun, session: Session) -> dict:
    """Build an inventory report as JSON, CSV and XLSX (seed task)."""
    return generate_report(session=session, storage=worker_storage(), job_id=job.id, params=job.params)
