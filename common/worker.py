"""What every job task shares: its session, its retry policy, and its bookkeeping in the jobs table.

A task is like a web view: `JobTask` handles the job row, retries and error messages. Celery calls
a job task with a job id; its body gets `(job, session)` — the job as its attempt began (`JobRun`)
and the one transaction it writes in — calls one service function and returns a JSON result.
`JobTask` completes the job in that same transaction, so domain rows and the job's outcome commit
together or not at all, whatever the body remembers to do.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

import kombu.exceptions
import psycopg
import redis.exceptions
from billiard.exceptions import WorkerLostError
from celery import Celery, Task, signals
from celery.exceptions import Retry, SoftTimeLimitExceeded, TimeLimitExceeded
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from common import diagnostics, jobs, reconciler
from common.config import get_settings
from common.db import make_engine, make_session_factory, session_scope
from common.errors import BadInput
from common.storage import Storage, StorageUnavailable, build_storage
from common.telemetry import job_metrics
from common.telemetry.logs import bind_job_context, current_job_kind

log = logging.getLogger(__name__)


class TransientError(Exception):
    """A dependency hiccup (storage, network) worth retrying with backoff."""


# Errors worth a retry: the database, the broker or storage were briefly unreachable.
# Bad input (BadInput) and bugs fail at once: retrying them only delays the bad news.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    StorageUnavailable,  # the bucket or its endpoint did not answer
    OperationalError,
    psycopg.OperationalError,  # raised as is where a task drives psycopg itself (an import's COPY and pipelines)
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
    ConnectionError,
    TimeoutError,
)


# The database itself could not be reached (server down, network cut): see JobTask.retry.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, psycopg.OperationalError)


@cache
def _engine() -> Engine:
    return make_engine(get_settings())


@cache
def _session_factory() -> sessionmaker[Session]:
    return make_session_factory(_engine())


def database_reachable() -> bool:
    """True when a fresh `SELECT 1` gets through: tells an outage from a task's own database error."""
    try:
        with _engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except DATABASE_ERRORS:
        return False


@signals.worker_init.connect
def _lower_cpu_priority(**_kwargs) -> None:
    # before the pool forks, so every child and OCR helper inherits it; raising one's own niceness
    # needs no privilege (a container's too)
    nice = get_settings().worker_nice
    if nice:
        log.info("worker CPU priority lowered: nice %+d", os.nice(nice))


@signals.worker_process_init.connect
def _fresh_connections_after_fork(**_kwargs) -> None:
    # a pool inherited from the parent would share sockets between processes
    _engine.cache_clear()
    _session_factory.cache_clear()
    worker_storage.cache_clear()  # an S3 client's connection pool is no more shareable than the database's
    # the ~170,000 objects every child inherits (Celery, SQLAlchemy, the task modules) live as long
    # as it does: keep the garbage collector from walking them again and again while a task
    # allocates, which cost a 100k-row import about 0.15 s
    gc.freeze()


@contextmanager
def task_session() -> Iterator[Session]:
    """The task's one transaction (commit on success, rollback on error)."""
    with session_scope(_session_factory()) as session:
        yield session


class ProgressReporter:
    """Writes a job's progress at most every `interval` seconds (and always at 100).

    Each write also reads whether someone asked the job to stop, and raises `jobs.JobCancelled` if so:
    the body's transaction rolls back and `JobTask` finishes the job `cancelled`.
    """

    def __init__(self, job_id: str, interval: float = 0.5):
        self.job_id = job_id
        self.interval = interval
        self._last_value = -1
        self._last_time = 0.0

    def __call__(self, progress: float) -> None:
        value = max(0, min(100, int(progress)))
        now = time.monotonic()
        if value == self._last_value or (value < 100 and now - self._last_time < self.interval):
            return
        with task_session() as session:
            jobs.set_progress(session=session, job_id=self.job_id, progress=value)
        self._last_value, self._last_time = value, now


@dataclass(frozen=True)
class JobRun:
    """What a job task's body is given besides its session: the job as this attempt began, detached."""

    id: str
    kind: str
    params: dict[str, Any]
    attempts: int
    owner_id: int
    owner_username: str
    retry_of: str | None
    report_progress: ProgressReporter

    @classmethod
    def of(cls, job: jobs.Job) -> JobRun:
        return cls(id=job.id, kind=job.kind, params=dict(job.params or {}), attempts=job.attempts, owner_id=job.owner_id,
                   owner_username=job.owner_username, retry_of=job.retry_of, report_progress=ProgressReporter(job.id))


def _friendly(exc: BaseException) -> tuple[str, str]:
    """(Spanish message, stable code) for the person who submitted the job."""
    if isinstance(exc, BadInput):
        return exc.message, exc.code
    if isinstance(exc, SoftTimeLimitExceeded | TimeLimitExceeded):
        return (
            "El trabajo tardó más que su tiempo límite y se detuvo. Pruebe con un archivo más pequeño "
            "o pida al administrador que amplíe el límite.",
            "job_time_limit",
        )
    if isinstance(exc, TRANSIENT_ERRORS):
        return (
            "Un servicio del que depende el trabajo (base de datos, cola o almacenamiento) siguió sin "
            "responder, así que el trabajo se abandonó. Vuelve a intentarlo más tarde.",
            "job_dependency_unavailable",
        )
    return (
        "El trabajo falló por un error inesperado. El administrador encontrará los detalles en el "
        "registro del worker, con el identificador de este trabajo.",
        "job_unexpected_error",
    )


@dataclass(frozen=True)
class Deferred:
    """What a job body returns when it has handed the job on to other tasks (a chord) that will finish it.

    The job stays `processing`; whoever finishes it goes through `jobs.complete`/`fail`/`cancel`, so the
    first finish still wins and the hooks still run once.
    """

    reason: str


class JobTask(Task):
    """Base class of every job task: `run(job, session)` does the work, this class does the bookkeeping.

    Celery sends a job task its job id alone; `__call__` turns that into the body's `(JobRun, Session)`,
    so Celery's argument check (`typing`) is off for these tasks.
    """

    abstract = True
    typing = False
    # transient failures: exponential backoff with jitter, capped; see common.celery_app for the limits
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2
    retry_jitter = True
    # a killed worker process: send the task again through retry() (so max_retries caps it)
    acks_late = True
    reject_on_worker_lost = True
    retry_on_worker_lost = True

    def __call__(self, job_id: str) -> Any:
        settings = get_settings()
        bind_job_context(job_id=job_id, service=self.name.split(".", 1)[0])  # on every line of this job
        try:
            with task_session() as session:
                job = jobs.begin_attempt(
                    session=session, job_id=job_id, max_attempts=(self.max_retries or 0) + settings.job_max_requeues + 1,
                    worker=self.request.hostname,
                )
                if job is None:
                    current = session.get(jobs.Job, job_id)
                    return current.result if current is not None else None
                run = JobRun.of(job)
        except DATABASE_ERRORS as exc:  # outside run(), so autoretry_for does not see it
            raise self.retry(exc=exc) from exc
        bind_job_context(kind=run.kind, attempt=run.attempts)
        log.info("job %s (%s): attempt %s", job_id, self.name, run.attempts)
        try:
            # the body's transaction begins at its first statement, so work it does before touching
            # the session (OCR) holds no lock; a redelivered message then finds the job finished
            with task_session() as session:
                result = self.run(run, session) or {}
                if isinstance(result, Deferred):  # other tasks carry the job on and finish it
                    log.info("job %s handed on: %s", job_id, result.reason)
                    return None
                # under the job's row lock: a cancel request that came before this commit wins
                jobs.raise_if_cancel_requested(session=session, job_id=job_id, lock=True)
                jobs.complete(session=session, job_id=job_id, result=result)
        except jobs.JobCancelled as cancelled:  # the body's writes are rolled back by now
            log.info("job %s cancelled by %s", job_id, cancelled.by)
            try:
                with task_session() as session:
                    jobs.cancel(session=session, job_id=job_id, by=cancelled.by)
            except DATABASE_ERRORS as exc:  # the redelivered message finds the request and cancels then
                raise self.retry(exc=exc) from exc
            return None
        except DATABASE_ERRORS as exc:  # at the commit, outside run(): the work is idempotent, run it again
            raise self.retry(exc=exc) from exc
        return result

    def retry(self, args=None, kwargs=None, exc=None, throw=True, eta=None, countdown=None, max_retries=None, **options):
        """Celery's retry, except while the database is down: then wait for it without spending a retry.

        An outage is not the job's fault, and the retry budget (a few seconds of backoff) is shorter
        than a database restart. The message is sent again with the same retry count, so the job
        runs as soon as the database answers; nothing here needs the database.
        """
        if isinstance(exc, DATABASE_ERRORS) and not self.request.is_eager and not database_reachable():
            delay = get_settings().task_retry_delay_seconds or 1
            log.warning("job %s: database unreachable (%r); trying again in %ss", self.request.id, exc, delay)
            self.signature_from_request(countdown=delay, retries=self.request.retries).apply_async()
            return Retry(exc=exc, when=delay)
        return super().retry(
            args=args, kwargs=kwargs, exc=exc, throw=throw, eta=eta, countdown=countdown, max_retries=max_retries, **options
        )

    def on_retry(self, exc, task_id, args, kwargs, einfo) -> None:
        job_metrics.record_retry(service=self.name.split(".", 1)[0], kind=current_job_kind() or self.name.rsplit(".", 1)[-1])
        try:
            with task_session() as session:
                jobs.mark_retrying(
                    session=session,
                    job_id=task_id,
                    error=f"Problema temporal ({type(exc).__name__}); se reintenta automáticamente.",
                    code="job_retrying",
                )
        except DATABASE_ERRORS:  # the retry is already on its way; the row catches up on the next attempt
            log.warning("job %s: could not mark it retrying (database unreachable)", task_id)

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        if isinstance(exc, BadInput):
            log.info("job %s rejected: %s", task_id, exc.message)
        else:
            log.error("job %s failed: %r", task_id, exc, exc_info=(type(exc), exc, einfo.tb) if einfo else None)
        # a BadInput may say what the failed job's result should show (e.g. the columns an import found)
        result = getattr(exc, "result", None) if isinstance(exc, BadInput) else None
        _record_failure(task_id, *_friendly(exc), result=result)


class JobPartTask(Task):
    """Base class of a task that does one part of a job another task began (a page of a long scan).

    It is called with `job_id=` among its keyword arguments. It has a job task's delivery guarantees
    (late ack, a killed process's task sent again, transient errors retried with backoff) but no
    attempt of its own: the job stays `processing` while its parts run. A part that fails for good
    fails its job (the first finish wins, so the job ends once), then `after_job_failed` tidies up.
    """

    abstract = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2
    retry_jitter = True
    acks_late = True
    reject_on_worker_lost = True
    retry_on_worker_lost = True

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        job_id = (kwargs or {}).get("job_id")
        if isinstance(exc, BadInput):
            log.info("job %s rejected by its part %s: %s", job_id, task_id, exc.message)
        else:
            log.error("job %s: part %s failed: %r", job_id, task_id, exc, exc_info=(type(exc), exc, einfo.tb) if einfo else None)
        if job_id:
            _record_failure(job_id, *_friendly(exc))
            self.after_job_failed(exc, **kwargs)

    def after_job_failed(self, exc: BaseException | None, **kwargs: Any) -> None:
        """Undo what the job's parts left behind once `exc` (None: a lost process) failed it; nothing by default."""


def _record_failure(job_id: str, message: str, code: str, result: dict | None = None) -> None:
    try:
        with task_session() as session:
            jobs.fail(session=session, job_id=job_id, error=message, code=code, result=result)
    except Exception:  # the reconciler will find the job; do not hide the original error
        log.exception("job %s: could not record its failure", job_id)


@signals.task_failure.connect
def _worker_lost(sender=None, task_id=None, exception=None, kwargs=None, **_rest) -> None:
    # Runs in the worker's main process when a child died and no retry is left: on_failure never ran.
    if not isinstance(exception, WorkerLostError):
        return
    message = ("El proceso que ejecutaba este trabajo se detuvo inesperadamente varias veces, así que se "
               "abandonó. El archivo puede ser demasiado grande o estar dañado; revísalo o avisa al administrador.")
    if isinstance(sender, JobTask):
        _record_failure(task_id, message, "job_worker_lost")
    elif isinstance(sender, JobPartTask) and (kwargs or {}).get("job_id"):
        _record_failure(kwargs["job_id"], message, "job_worker_lost")
        sender.after_job_failed(None, **kwargs)


@cache
def worker_storage() -> Storage:
    """The same storage the APIs use (common.storage.build_storage), one per worker process."""
    return build_storage(get_settings())


def register_platform_tasks(app: Celery, service: str) -> tuple[Task, Task]:
    """The tasks every queue-using service has: its jobs' reconciler and the diagnostic job.

    They are named after the service's tasks module, so the seed's routes send them to its queue.
    """

    @app.task(name=f"{service}.app.tasks.reconcile_jobs", ignore_result=True, acks_late=False)
    def reconcile_jobs() -> dict[str, int]:
        settings = get_settings()

        def publish(job: jobs.Job, priority: int) -> None:
            app.send_task(job.task_name, args=[job.id], task_id=job.id, priority=priority)

        with task_session() as session:
            return reconciler.reconcile(
                session=session,
                service=service,
                stale_queued=timedelta(seconds=settings.stale_queued_seconds),
                stale_processing=timedelta(seconds=settings.stale_processing_seconds),
                max_requeues=settings.job_max_requeues,
                publish=publish,
            )

    @app.task(name=f"{service}.app.tasks.run_diagnostic", base=JobTask)
    def run_diagnostic(job: JobRun, session: Session) -> dict:
        # begin_attempt has proved the database; the session stays unused, so SQLite's lock is free
        # for the progress writes while the steps run
        return diagnostics.run(
            storage=worker_storage(),
            job_id=job.id,
            attempt=job.attempts,
            params=job.params,
            report=job.report_progress,
        )

    return reconcile_jobs, run_diagnostic
