"""How a service hands a job to the workers: record it, commit, publish with a deadline."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from celery import Celery
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from common import jobs
from common.security import Principal
from common.telemetry.logs import current_request_id

log = logging.getLogger(__name__)

#: below this, an upload is checked against the quota only once, by `submit` under its lock: the
#: file is already in the server's hands, and storing (then deleting) it costs less than the extra
#: count that every accepted upload would otherwise pay
EARLY_QUOTA_CHECK_BYTES = 1 << 20


class Enqueuer:
    """Submits jobs of one service to its Celery queue (the routes pick the queue by task name)."""

    def __init__(self, *, celery: Celery, service: str, timeout: float, quota: jobs.JobQuota):
        self.celery = celery
        self.service = service
        self.timeout = timeout
        self.quota = quota

    def ensure_capacity(self, *, session: Session, owner: Principal, upload_bytes: int | None) -> None:
        """429 at once if `owner` already has the most unfinished jobs allowed, before storing a large upload."""
        if upload_bytes is None or upload_bytes >= EARLY_QUOTA_CHECK_BYTES:
            jobs.ensure_capacity(session=session, service=self.service, owner=owner, quota=self.quota)

    def submit(
        self, *, session: Session, kind: str, task: str, owner: Principal, params: dict[str, Any],
        retry_of: str | None = None,
    ) -> jobs.Job:
        """Queue `<service>.app.tasks.<task>` for a new job (`retry_of`: the job an admin retries with it).

        429 (TooManyRequests) past the owner's quota, 503 (ServiceUnavailable) if Redis is unreachable.
        """
        task_name = f"{self.service}.app.tasks.{task}"
        request_id = current_request_id()  # the worker logs the job's lines under the request's id
        headers = {"request_id": request_id} if request_id else None

        def publish(job_id: str, priority: int) -> None:
            # retry=False: fail fast and let jobs.submit answer 503 instead of blocking the request.
            # ignore_result: the outcome lives in the jobs table; a result would make the Redis result
            # backend subscribe to its channel first, and on a dead Redis that retries past the deadline
            self.celery.send_task(task_name, args=[job_id], task_id=job_id, priority=priority, retry=False,
                                  ignore_result=True, headers=headers)

        job = jobs.submit(
            session=session,
            service=self.service,
            kind=kind,
            task_name=task_name,
            owner=owner,
            params=params,
            publish=publish,
            timeout=self.timeout,
            quota=self.quota,
            retry_of=retry_of,
        )
        log.info("job %s (%s) queued", job.id, kind, extra={"job_id": job.id, "kind": kind})
        return job


async def get_enqueuer(request: Request) -> Enqueuer:  # no I/O: no thread pool hop
    return request.app.state.enqueuer


EnqueuerDep = Annotated[Enqueuer, Depends(get_enqueuer)]
