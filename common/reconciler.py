"""The reconciler: the backstop for jobs whose message or worker was lost.

Redis can lose a message (a restart without its data, a flush) and a worker can vanish in a way
nothing redelivers. Each service's `reconcile_jobs` task (common/worker.py, run by beat) calls
`reconcile`, which sends silent jobs again or fails them (or cancels them, when someone asked them
to stop), through the one finish path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import jobs
from common.db import utcnow
from common.jobs import Job, JobStatus

log = logging.getLogger(__name__)


def reconcile(
    *,
    session: Session,
    service: str,
    stale_queued: timedelta,
    stale_processing: timedelta,
    max_requeues: int,
    publish: Callable[[Job, int], None],
) -> dict[str, int]:
    """Find jobs with no sign of life and send them again, or fail them with a reason.

    A job `queued` or `retrying` longer than `stale_queued` lost its message (Redis restarted
    without persistence, or was flushed); a job `processing` without progress for
    `stale_processing` lost its worker. Tasks are idempotent, so sending one again is safe even
    if the original message turns up later.
    """
    now = utcnow()
    stale = list(
        session.scalars(
            select(Job)
            .where(Job.service == service)
            .where(
                ((Job.status.in_([JobStatus.QUEUED, JobStatus.RETRYING])) & (Job.updated_at < now - stale_queued))
                | ((Job.status == JobStatus.PROCESSING) & (Job.updated_at < now - stale_processing))
            )
            .with_for_update(skip_locked=True)
            .limit(500)
        )
    )
    counts = {"requeued": 0, "failed": 0, "cancelled": 0}
    for job in stale:
        if job.cancel_requested:  # it was asked to stop and then went silent: it is not sent again
            jobs.cancel(session=session, job_id=job.id, by=job.cancel_requested_by)
            counts["cancelled"] += 1
            continue
        if job.requeues >= max_requeues:
            jobs.fail(
                session=session, job_id=job.id, code="job_stalled",
                error=f"Este trabajo no avanzó tras enviarse a los workers {job.requeues + 1} veces, así que se "
                "detuvo. Envíalo de nuevo; si vuelve a ocurrir, avisa al administrador.",
            )
            counts["failed"] += 1
            continue
        job.requeues += 1
        job.status = JobStatus.QUEUED
        job.updated_at = now
        session.flush()
        # the priority it would get if its owner sent it now: a lost job must not jump a flood's queue
        others = jobs.count_active(session=session, service=service, owner_id=job.owner_id) - 1
        publish(job, jobs.queue_priority(others))
        counts["requeued"] += 1
    if stale:
        log.warning("reconciler (%s): %s", service, counts)
    return counts
