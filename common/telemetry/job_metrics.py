"""What the jobs do, as Prometheus metrics: finishes, durations, queue waits, retries, rows and pages read.

Counted in whichever process finishes the job (a worker child, the worker's main process for a lost
child, an API process for a publish that failed): under a worker, prometheus_client's
multiprocess mode adds up every child's files (`common.telemetry.worker` serves them). Every metric
has labels, so no series is created at import time (an unlabelled one would open its file before
the worker cleans the directory).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from common import jobs

JOBS_FINISHED = Counter("timon_jobs_finished_total", "Jobs that reached a final status", ["service", "kind", "status"])
JOB_DURATION = Histogram(
    "timon_job_duration_seconds", "From a job's first start to its finish (finished_at - started_at)",
    ["service", "kind", "status"], buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900),
)
JOB_QUEUE_WAIT = Histogram(
    "timon_job_queue_wait_seconds", "From a job's submission to its first start (started_at - created_at)",
    ["service", "kind"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
JOB_RETRIES = Counter("timon_job_retries_total", "Retries decided for a job after a transient error or a lost worker",
                      ["service", "kind"])
IMPORT_ROWS = Counter("timon_import_rows_total", "Rows of inventory files read by imports", ["dry_run"])
IMPORT_SECONDS = Counter("timon_import_seconds_total", "Seconds spent importing inventory files "
                         "(rate(rows) / rate(seconds) = rows per second)", ["dry_run"])
DOCUMENT_PAGES = Counter("timon_document_pages_total", "Pages of clinical documents read, by how (text layer or OCR)",
                         ["source"])
DOCUMENT_SECONDS = Counter("timon_document_read_seconds_total", "Seconds spent reading clinical documents", ["service"])


@jobs.on_job_finished
def record_finished_job(job: jobs.FinishedJob) -> None:
    status = str(job.status)
    JOBS_FINISHED.labels(job.service, job.kind, status).inc()
    if job.started_at is not None:  # a job failed before any worker started it has no run to time
        JOB_DURATION.labels(job.service, job.kind, status).observe(max(0.0, (job.finished_at - job.started_at).total_seconds()))
        JOB_QUEUE_WAIT.labels(job.service, job.kind).observe(max(0.0, (job.started_at - job.created_at).total_seconds()))


def record_retry(*, service: str, kind: str) -> None:
    JOB_RETRIES.labels(service, kind).inc()


def record_import(*, rows: int, seconds: float, dry_run: bool) -> None:
    """One inventory file read: its rows and the time it took."""
    IMPORT_ROWS.labels(str(dry_run).lower()).inc(rows)
    IMPORT_SECONDS.labels(str(dry_run).lower()).inc(seconds)


def record_document_read(*, pages: list, seconds: float) -> None:
    """One clinical document read: its pages by source (`text`, `ocr`) and the time it took."""
    for page in pages:
        DOCUMENT_PAGES.labels(getattr(page, "source", "unknown") or "unknown").inc()
    DOCUMENT_SECONDS.labels("veterinaria").inc(seconds)
