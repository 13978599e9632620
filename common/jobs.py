"""The durable job registry: what the API accepted, and where each job stands.

The `jobs` table, not Redis, is the record. The API writes a row and commits before it enqueues;
the worker moves it through `processing` (and `retrying`) to `completed`, `failed` or `cancelled`;
the status endpoints read it, so a result outlives Redis's result expiry and an unknown id is a
plain 404. Every one of those three ends goes through `_finish`, whose hooks run after the commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Index, Integer, String, Text, event, func, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from common.db import Base, UTCDateTime, utcnow
from common.errors import NotFound, ServiceUnavailable, TooManyRequests
from common.job_results import bound_result
from common.security import Principal

log = logging.getLogger(__name__)


class JobStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (JobStatus.QUEUED, JobStatus.PROCESSING, JobStatus.RETRYING)
FINISHED = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_updated_at", "status", "updated_at"),
        Index("ix_jobs_owner_id_created_at", "owner_id", "created_at"),
        # the notification outbox: finished jobs whose notifications nobody has planned yet (few rows)
        Index("ix_jobs_unnotified", "service", "finished_at",
              postgresql_where=text("notified_at IS NULL AND finished_at IS NOT NULL"),
              sqlite_where=text("notified_at IS NULL AND finished_at IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # = the Celery task id
    service: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64))
    task_name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(Integer)
    owner_username: Mapped[str] = mapped_column(String(150))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)  # stable, for programs
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # times a worker started it
    requeues: Mapped[int] = mapped_column(Integer, default=0)  # times the reconciler sent it again
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # a running job is asked to stop; its worker notices at its next progress step (common/worker.py)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    cancel_requested_by: Mapped[str | None] = mapped_column(String(150), default=None)
    retry_of: Mapped[str | None] = mapped_column(String(36), default=None, index=True)  # the job an admin retried
    worker: Mapped[str | None] = mapped_column(String(200), default=None)  # Celery nodename of its latest attempt
    # when its notifications were planned (common/notify); NULL once finished = still owed, so a finish
    # whose "notify" message never reached Redis is found and sent again (common/notify/outbox.py)
    # (no Python default: an INSERT leaves the column out, so code that writes jobs at an older revision still works)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def cancel_requested(self) -> bool:
        return self.cancel_requested_at is not None


class JobCancelled(Exception):  # noqa: N818  (a request, not an error)
    """Raised inside a running job that was asked to stop: its transaction rolls back, the job ends `cancelled`."""

    def __init__(self, by: str | None):
        super().__init__(by)
        self.by = by


class JobRead(BaseModel):
    """A job as the status endpoints show it."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["0b7e4c52-8f0e-4a4e-9d7a-3f1c2b9e6d10"])
    service: str = Field(examples=["petshop"])
    kind: str = Field(examples=["inventory_import"])
    status: JobStatus
    progress: int = Field(ge=0, le=100)
    result: dict[str, Any] | None = None
    error: str | None = Field(default=None, description="What went wrong, in Spanish, for the person who submitted the job")
    error_code: str | None = Field(default=None, description="Stable snake_case name of `error`", examples=["job_time_limit"])
    attempts: int = Field(description="How many times a worker started it")
    requeues: int = Field(description="How many times the reconciler sent it again after it was lost")
    owner_id: int
    owner_username: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cancel_requested: bool = Field(default=False, description="Someone asked this running job to stop; it ends `cancelled`")
    retry_of: str | None = Field(default=None, description="The failed or cancelled job this one retries")
    worker: str | None = Field(default=None, description="The Celery worker (name@host) that started its latest attempt",
                               examples=["w1@worker-a"])


class JobSummary(BaseModel):
    """A job as `GET /jobs/` lists it: everything but its result, which `GET /jobs/{id}` shows.

    A console's job list needs the status, progress and error of each row; a result can be tens of
    kilobytes (an import's first errors, a report's preview), and a page of 200 of them would be megabytes.
    """

    model_config = ConfigDict(from_attributes=True)

    id: str
    service: str
    kind: str
    status: JobStatus
    progress: int = Field(ge=0, le=100)
    has_result: bool = Field(description="Whether GET /jobs/{id} has a result to show")
    error: str | None = None
    error_code: str | None = None
    attempts: int
    requeues: int
    owner_id: int
    owner_username: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cancel_requested: bool = False
    retry_of: str | None = None
    worker: str | None = None

    @classmethod
    def of(cls, job: Job) -> JobSummary:
        return cls.model_validate({**{name: getattr(job, name) for name in cls.model_fields if name != "has_result"},
                                   "has_result": job.result is not None})


class JobAccepted(BaseModel):
    """Answer to a submission: the job is queued; poll `status_url`."""

    task_id: str = Field(examples=["0b7e4c52-8f0e-4a4e-9d7a-3f1c2b9e6d10"])
    status: JobStatus = JobStatus.QUEUED
    status_url: str = Field(examples=["/jobs/0b7e4c52-8f0e-4a4e-9d7a-3f1c2b9e6d10"])


# --- the API side -------------------------------------------------------------------------


Publish = Callable[[str, int], None]  # sends the task message for a job id, at a queue priority

# Redis delivers priority 0 first (common/celery_app.py sets the ten steps 0–9)
LOWEST_PRIORITY = 9
# pg_advisory_xact_lock(namespace, owner id): one submission at a time per user (PostgreSQL)
QUOTA_LOCK_NAMESPACE = 0x7E7A_0002


def queue_priority(others_active: int) -> int:
    """A job's message priority: how many other unfinished jobs its owner has on the service, up to 9."""
    return max(0, min(others_active, LOWEST_PRIORITY))


class JobQuota(BaseModel):
    """How many unfinished jobs one user may have on one service, and what a refusal tells them."""

    max_active: int = Field(ge=1)
    retry_after_seconds: int = Field(ge=1)


def submit(
    *,
    session: Session,
    service: str,
    kind: str,
    task_name: str,
    owner: Principal,
    params: dict[str, Any],
    publish: Publish,
    timeout: float,
    quota: JobQuota,
    retry_of: str | None = None,
) -> Job:
    """Record a job, commit, then enqueue it within `timeout` seconds (`retry_of`: the job it retries).

    This is the one service function that commits: the message must not reach a worker before
    the row it points to is visible. The owner's unfinished jobs on this service are counted under
    a per-user lock in the same transaction as the insert, so concurrent submissions cannot pass
    the quota (429); the count also sets the message's priority, so a user's tenth queued job
    waits behind everyone's first. If the broker cannot be reached in time the job is marked
    failed (so nothing stays queued forever) and ServiceUnavailable is raised.
    """
    _lock_owner(session, owner.id)
    active = count_active(session=session, service=service, owner_id=owner.id)
    if active >= quota.max_active:
        raise _quota_exceeded(quota)
    job = Job(
        id=str(uuid.uuid4()),
        service=service,
        kind=kind,
        task_name=task_name,
        owner_id=owner.id,
        owner_username=owner.username,
        status=JobStatus.QUEUED,
        params=params,
        retry_of=retry_of,
    )
    session.add(job)
    session.commit()
    try:
        _call_with_timeout(publish, job.id, queue_priority(active), timeout)
    except Exception as exc:
        log.warning("could not enqueue job %s: %r", job.id, exc)
        fail(
            session=session, job_id=job.id, code="queue_unavailable",
            error="No se pudo contactar con la cola de trabajos, así que este trabajo no se inició. "
            "Vuelve a intentarlo en un momento.",
        )
        session.commit()
        raise ServiceUnavailable(
            "La cola de trabajos (Redis) no responde ahora mismo, así que el trabajo no se pudo iniciar. "
            "Vuelve a intentarlo en un momento; si continúa, avisa al administrador.",
            code="queue_unavailable",
        ) from None
    return job


def ensure_capacity(*, session: Session, service: str, owner: Principal, quota: JobQuota) -> None:
    """429 now if the owner is already at the quota: a cheap early check before a large upload is stored.

    `submit` checks again under the lock; this one only spares the upload.
    """
    if count_active(session=session, service=service, owner_id=owner.id) >= quota.max_active:
        raise _quota_exceeded(quota)


def count_active(*, session: Session, service: str, owner_id: int) -> int:
    """The owner's jobs on `service` that are queued, running or waiting to retry."""
    return session.scalar(
        select(func.count()).select_from(Job)
        .where(Job.owner_id == owner_id, Job.service == service, Job.status.in_(ACTIVE))
    )


def _lock_owner(session: Session, owner_id: int) -> None:
    # SQLite needs nothing: every transaction starts with BEGIN IMMEDIATE (common/db.py), so the
    # count and the insert already run with the one write lock held
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:namespace, :owner)"),
                        {"namespace": QUOTA_LOCK_NAMESPACE, "owner": owner_id})


def _quota_exceeded(quota: JobQuota) -> TooManyRequests:
    return TooManyRequests(
        f"Ya tienes {quota.max_active} trabajos en cola o en marcha en este servicio, el máximo por persona. "
        "Espera a que termine alguno (puedes seguirlos en GET /jobs/) y vuelve a enviarlo.",
        code="job_quota_exceeded",
        retry_after=quota.retry_after_seconds,
    )


_publisher_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="enqueue")


def _call_with_timeout(publish: Publish, job_id: str, priority: int, timeout: float) -> None:
    # Celery's publish path can block for many seconds on a dead broker (connection retries);
    # the caller gets an answer in `timeout` seconds whatever the client library does.
    # A late publish is harmless: the worker skips a job that is already failed.
    future = _publisher_pool.submit(publish, job_id, priority)
    try:
        future.result(timeout=timeout)
    except FutureTimeout:
        raise ServiceUnavailable("enqueue timed out", code="queue_unavailable") from None


def get_visible(
    *, session: Session, job_id: str, user: Principal, service: str | None = None, kinds: tuple[str, ...] | None = None,
) -> Job:
    """A job the caller may see: their own, or any job for an admin. Others' jobs look absent.

    `kinds` narrows it to jobs of those kinds (a report's status route does not show an import).
    """
    job = _get(session, job_id)
    if (
        job is None
        or (service is not None and job.service != service)
        or (kinds is not None and job.kind not in kinds)
        or (job.owner_id != user.id and not user.is_admin)
    ):
        raise NotFound(f"No existe ningún trabajo con el identificador {job_id}.", code="job_not_found")
    return job


def read_visible(*, session: Session, job_id: str, user: Principal, service: str | None = None) -> JobRead:
    """`get_visible`'s job as the status endpoints show it, read while its session is open."""
    return JobRead.model_validate(get_visible(session=session, job_id=job_id, user=user, service=service))


def list_visible(
    *, session: Session, user: Principal, service: str | None = None, status: JobStatus | None = None,
    kind: str | None = None, limit: int = 50, offset: int = 0,
) -> list[Job]:
    """The caller's jobs (all jobs for an admin), newest first."""
    query = select(Job).order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset)
    if not user.is_admin:
        query = query.where(Job.owner_id == user.id)
    if service is not None:
        query = query.where(Job.service == service)
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return list(session.scalars(query))


def _get(session: Session, job_id: str) -> Job | None:
    try:
        uuid.UUID(job_id)
    except ValueError:
        return None
    return session.get(Job, job_id)


# --- the worker side ------------------------------------------------------------------------


def begin_attempt(*, session: Session, job_id: str, max_attempts: int, worker: str | None = None) -> Job | None:
    """Mark a job `processing` by `worker` (a Celery nodename) and count the attempt; None when it must not run.

    A job already finished (a redelivered message, or a late publish of a job the API gave up on)
    is not run again. A job that has been started `max_attempts` times without finishing has
    crashed its worker each time: it fails instead of looping.
    """
    job = session.get(Job, job_id, with_for_update=True)
    if job is None:
        log.error("job %s: no such row; dropping the message", job_id)
        return None
    if job.status in FINISHED:
        log.info("job %s already %s; not running it again", job_id, job.status)
        return None
    if job.cancel_requested:  # asked to stop, then its worker was lost: it does not start again
        cancel(session=session, job_id=job_id, by=job.cancel_requested_by)
        return None
    if job.attempts >= max_attempts:
        fail(
            session=session, job_id=job_id, code="job_too_many_attempts",
            error=f"Este trabajo detuvo su proceso {job.attempts} veces sin terminar, así que se abandonó. "
            "El archivo puede estar dañado o ser demasiado grande; revísalo o avisa al administrador.",
        )
        return None
    now = utcnow()
    job.status = JobStatus.PROCESSING
    job.attempts += 1
    job.error = job.error_code = None
    job.started_at = job.started_at or now
    job.updated_at = now
    job.worker = worker or job.worker
    return job


def set_progress(*, session: Session, job_id: str, progress: int) -> None:
    """Record progress (0–100) of a running job (also its heartbeat); JobCancelled if it was asked to stop."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.PROCESSING)
        .values(progress=max(0, min(100, int(progress))), updated_at=utcnow())
    )
    raise_if_cancel_requested(session=session, job_id=job_id)


def raise_if_cancel_requested(*, session: Session, job_id: str, lock: bool = False) -> None:
    """JobCancelled if someone asked this job to stop (`lock`: hold its row until the commit, as a finish does)."""
    query = select(Job.cancel_requested_at, Job.cancel_requested_by).where(Job.id == job_id)
    row = session.execute(query.with_for_update() if lock else query).first()
    if row is not None and row.cancel_requested_at is not None:
        raise JobCancelled(row.cancel_requested_by)


def complete(*, session: Session, job_id: str, result: dict[str, Any]) -> None:
    """Record a job's result (trimmed past MAX_RESULT_BYTES); a job already finished keeps its first outcome."""
    _finish(session, job_id, JobStatus.COMPLETED, result=bound_result(result, job_id=job_id), error=None, code=None,
            progress=100)


def fail(*, session: Session, job_id: str, error: str, code: str, result: dict[str, Any] | None = None) -> None:
    """Record why a job failed (`error` in Spanish, `code` stable; `result`, if any, trimmed like a completed one's).

    A finished job keeps its first outcome.
    """
    bounded = bound_result(result, job_id=job_id) if result is not None else None
    _finish(session, job_id, JobStatus.FAILED, result=bounded, error=error, code=code, progress=None)


def cancel(*, session: Session, job_id: str, by: str | None) -> None:
    """End an unfinished job as `cancelled` ("Cancelado por <usuario>", `job_cancelled`); a finished job keeps its outcome."""
    who = f"Cancelado por {by}." if by else "Cancelado."
    _finish(session, job_id, JobStatus.CANCELLED, result=None, code="job_cancelled", progress=None,
            error=f"{who} El trabajo se detuvo sin guardar nada; un administrador puede reintentarlo.")


def mark_retrying(*, session: Session, job_id: str, error: str, code: str) -> None:
    """Show that an active job failed transiently and will be run again."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(ACTIVE))
        .values(status=JobStatus.RETRYING, error=error, error_code=code, updated_at=utcnow())
    )


@dataclass(frozen=True)
class FinishedJob:
    """What a finish hook sees: the job as its finish committed it, detached from any session."""

    id: str
    service: str
    kind: str
    status: JobStatus
    owner_id: int
    owner_username: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    error_code: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime

    @classmethod
    def of(cls, job: Job) -> FinishedJob:
        return cls(**{name: getattr(job, name) for name in cls.__dataclass_fields__})


JobFinishedHook = Callable[[FinishedJob], None]
_finished_hooks: list[JobFinishedHook] = []
_PENDING = "jobs_finished_pending"  # key in Session.info: the finishes this transaction has not committed yet


def on_job_finished(hook: JobFinishedHook) -> JobFinishedHook:
    """Register a hook run for every job that completes, fails or is cancelled, after that commit.

    Never before the commit: a notification must not announce a finish that then rolls back. The
    session is closed for SQL by then, so a hook that needs the database opens its own transaction
    (or, better, queues a task that does). A failing hook is logged and changes nothing.
    """
    _finished_hooks.append(hook)
    return hook


def _finish(session: Session, job_id: str, status: JobStatus, *, result, error, code, progress) -> None:
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or job.status in FINISHED:
        return
    now = utcnow()
    job.status = status
    job.result = result
    job.error = error
    job.error_code = code
    if progress is not None:
        job.progress = progress
    job.finished_at = job.updated_at = now
    job.notified_at = None  # owed from this commit on, in the same transaction as the finish
    session.flush()
    session.info.setdefault(_PENDING, []).append(FinishedJob.of(job))


@event.listens_for(Session, "after_commit")
def _run_finished_hooks(session: Session) -> None:
    for finished in session.info.pop(_PENDING, ()):
        for hook in list(_finished_hooks):
            try:
                hook(finished)
            except Exception:  # a notifier must never undo or hide the job's outcome
                log.exception("job %s: finished-hook %r failed", finished.id, hook)


@event.listens_for(Session, "after_rollback")
def _forget_finishes(session: Session) -> None:
    session.info.pop(_PENDING, None)
