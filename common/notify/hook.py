"""The finish hook: after the commit that finished a job, queue the task that plans its notifications.

It does nothing else: no database, no wait for Redis (the publish runs on a thread of its own), so a
notification can neither fail nor delay the job it is about. Installed in every process that can
finish a job: the workers (at `worker_init`, see tasks.py) and the queue-using APIs (`common/web.py`).
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor

from celery import Celery

from common import jobs

log = logging.getLogger(__name__)

_publishers: dict[int, ThreadPoolExecutor] = {}  # per process id: a forked worker child does not inherit threads
_celery: list[Celery] = []  # the app the hook publishes with (the last installed)


def install_hook(app: Celery) -> None:
    """Register, once per process, the finish hook that queues a job's notifications through `app`."""
    if _celery:
        _celery[0] = app
        return
    _celery.append(app)
    jobs.on_job_finished(_queue_notifications)


def _queue_notifications(job: jobs.FinishedJob) -> None:
    # the publish runs on a thread: a slow or absent Redis must not hold up the job's own ack
    pool = _publishers.get(os.getpid())
    if pool is None:
        pool = _publishers[os.getpid()] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notify")
    pool.submit(_publish, _celery[0], job.service, job.id, str(job.status))


def _publish(app: Celery, service: str, job_id: str, status: str) -> None:
    try:
        # ignore_result: otherwise Celery's Redis backend subscribes to a result channel per message sent
        app.send_task(f"{service}.app.tasks.notify_job_finished", args=[job_id, status], ignore_result=True)
    except Exception:  # Redis down: the job's outcome stands, its notification is lost, and we say so
        log.exception("job %s: could not queue its notifications", job_id)
