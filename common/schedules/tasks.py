"""The Celery tasks behind schedules, registered under each queue service's tasks module.

`<service>.app.tasks.fire_schedules` is sent by beat every SCHEDULE_CHECK_SECONDS (like the
reconciler); it reads the service's due schedules from the database and fires each once.
`<service>.app.tasks.clean_storage` is the storage-cleanup job a schedule can run.
"""

from __future__ import annotations

from celery import Celery, Task
from sqlalchemy.orm import Session

from common.config import get_settings
from common.db import utcnow
from common.enqueue import Enqueuer
from common.jobs import JobQuota
from common.schedules import cleanup, service
from common.schedules.kinds import Kinds
from common.worker import JobRun, JobTask, task_session, worker_storage


def register_schedule_tasks(app: Celery, kinds: Kinds, scope: cleanup.CleanupScope) -> tuple[Task, Task]:
    """The dispatcher of this service's schedules and its storage-cleanup job."""
    name = kinds.service

    @app.task(name=f"{name}.app.tasks.fire_schedules", ignore_result=True, acks_late=False)
    def fire_schedules() -> dict[str, int]:
        settings = get_settings()
        enqueuer = Enqueuer(
            celery=app, service=name, timeout=settings.enqueue_timeout_seconds,
            quota=JobQuota(max_active=settings.job_max_active_per_user,
                           retry_after_seconds=settings.job_quota_retry_after_seconds),
        )
        with task_session() as session:
            due = service.due_ids(session=session, service=name, now=utcnow())
        fired = 0
        for schedule_id in due:  # one transaction each: one schedule's failure leaves the others alone
            with task_session() as session:
                fired += service.fire(session=session, schedule_id=schedule_id, kinds=kinds, enqueuer=enqueuer,
                                      now=utcnow()) is not None
        return {"due": len(due), "fired": fired}

    @app.task(name=f"{name}.app.tasks.{cleanup.TASK}", base=JobTask)
    def clean_storage(job: JobRun, session: Session) -> dict:
        params = cleanup.CleanupParams.model_validate(job.params)
        return cleanup.clean_storage(session=session, storage=worker_storage(), scope=scope,
                                     older_than_days=params.older_than_days, now=utcnow())

    return fire_schedules, clean_storage
