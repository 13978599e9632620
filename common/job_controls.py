"""Job controls on the API side: cancel a job (its owner or an admin) and retry one (an admin).

Cancelling a job that has not started finishes it at once through the one finish path; a running
job is only *asked* to stop (`cancel_requested_at`): its worker notices at its next progress step,
or at the latest when it would complete, rolls its transaction back and finishes it `cancelled`
(common/worker.py). A retry is a new job with the same kind, task, parameters and owner, linked to
the original by `retry_of`; the files the original read must still be in storage.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from common import jobs
from common.db import utcnow
from common.enqueue import Enqueuer
from common.errors import Conflict
from common.job_files import input_keys
from common.jobs import Job, JobStatus
from common.security import Principal, Role
from common.storage import Storage

RETRYABLE = (JobStatus.FAILED, JobStatus.CANCELLED)
_STATUS_WORDS = {
    JobStatus.QUEUED: "en cola", JobStatus.PROCESSING: "en marcha", JobStatus.RETRYING: "a la espera de reintentarse",
    JobStatus.COMPLETED: "completado", JobStatus.FAILED: "fallido", JobStatus.CANCELLED: "cancelado",
}


def cancel(*, session: Session, service: str, job_id: str, user: Principal) -> Job:
    """Cancel a queued or retrying job now, or ask a running one to stop; 409 for a finished job.

    Someone else's job (for anyone but an admin) looks absent, as it does to GET /jobs/{id}.
    """
    job = jobs.get_visible(session=session, job_id=job_id, user=user, service=service)
    session.refresh(job, with_for_update=True)  # a worker starting or finishing it now waits, or is waited for
    if job.status in jobs.FINISHED:
        raise Conflict(
            f"Este trabajo ya terminó ({_STATUS_WORDS[JobStatus(job.status)]}), así que no se puede cancelar.",
            code="job_already_finished",
        )
    if job.status == JobStatus.PROCESSING:
        if not job.cancel_requested:
            job.cancel_requested_at, job.cancel_requested_by = utcnow(), user.username
            job.updated_at = job.cancel_requested_at
            session.flush()
        return job
    # queued or retrying: its message may still reach a worker, and begin_attempt skips a finished job
    jobs.cancel(session=session, job_id=job.id, by=user.username)
    return job


def retry(*, session: Session, enqueuer: Enqueuer, storage: Storage, job_id: str, admin: Principal) -> Job:
    """Queue a new job like a failed or cancelled one (same kind, task, params and owner), linked by `retry_of`.

    409 `job_not_retryable` for a job that is not failed or cancelled, 409 `job_input_gone` when a file
    it read is no longer kept. The new job counts against its owner's quota, like any of theirs.
    """
    original = jobs.get_visible(session=session, job_id=job_id, user=admin, service=enqueuer.service)
    if original.status not in RETRYABLE:
        raise Conflict(
            "Solo se puede reintentar un trabajo fallido o cancelado, y este está "
            f"{_STATUS_WORDS[JobStatus(original.status)]}.", code="job_not_retryable",
        )
    missing = [key for key in input_keys(original.params) if not _stored(storage, key)]
    if missing:
        raise Conflict(
            "El archivo que leía este trabajo ya no se conserva, así que no se puede reintentar. "
            "Vuelve a subir el archivo para empezar un trabajo nuevo.", code="job_input_gone",
        )
    # the owner's role does not matter to the job (the row keeps id and username); only their quota does
    owner = Principal(id=original.owner_id, username=original.owner_username, role=Role.STAFF)
    return enqueuer.submit(
        session=session, kind=original.kind, task=original.task_name.rsplit(".", 1)[-1], owner=owner,
        params=dict(original.params), retry_of=original.id,
    )


def _stored(storage: Storage, key: str) -> bool:
    try:
        with storage.open(key):
            return True
    except Exception:  # NotFound (file_gone), or a key the storage refuses: either way nothing to read
        return False
