"""`/jobs/` on a queue-using service: the caller's jobs and their status, read from the jobs table;
cancel (owner or admin) and retry (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from common import job_controls, jobs
from common.diagnostics import DiagnosticIn
from common.enqueue import EnqueuerDep
from common.jobs import JobAccepted, JobRead, JobStatus, JobSummary
from common.security import AdminUser, CurrentUser
from common.types import Offset
from common.web import InSession, SessionDep, StorageDep


def make_jobs_router(service: str) -> APIRouter:
    router = APIRouter(prefix="/jobs", tags=["jobs"])

    @router.get("/", response_model=list[JobSummary])
    def list_jobs(
        user: CurrentUser,
        session: SessionDep,
        status: JobStatus | None = None,
        kind: Annotated[str | None, Query(max_length=40)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Offset = 0,
    ):
        """Your jobs on this service, newest first (an admin sees everyone's), without their results.

        `has_result` says whether `GET /jobs/{id}` has one; at most 200 a page (`limit`, `offset`).
        """
        found = jobs.list_visible(
            session=session, user=user, service=service, status=status, kind=kind, limit=limit, offset=offset
        )
        return [JobSummary.of(job) for job in found]

    @router.get("/{job_id}", response_model=JobRead, responses={404: {"description": "No such job, or not yours"}})
    async def read_job(job_id: str, user: CurrentUser, in_session: InSession):
        """One job: status (`queued`, `processing`, `retrying`, `completed`, `failed`, `cancelled`), progress 0–100,
        result or error; `cancel_requested` while a running job is stopping, `retry_of` for an admin's retry."""
        return await in_session(jobs.read_visible, job_id=job_id, user=user, service=service)

    @router.post(
        "/{job_id}/cancel", response_model=JobRead,
        responses={
            202: {"model": JobRead, "description": "Running: asked to stop (`cancel_requested`); it ends `cancelled`"},
            404: {"description": "No such job, or not yours"},
            409: {"description": "Already finished (`job_already_finished`)"},
        },
    )
    def cancel_job(job_id: str, user: CurrentUser, session: SessionDep, response: Response):
        """Cancel your job (an admin: anyone's). A queued or retrying job is `cancelled` at once and never starts (200).

        A running one is asked to stop (202, `cancel_requested: true`): it stops at its next progress step,
        whatever it wrote is rolled back, and it ends `cancelled` (`job_cancelled`, "Cancelado por …").
        """
        job = job_controls.cancel(session=session, service=service, job_id=job_id, user=user)
        if job.status not in jobs.FINISHED:
            response.status_code = 202
        return job

    @router.post(
        "/{job_id}/retry", response_model=JobAccepted, status_code=202,
        responses={
            403: {"description": "Not an admin"}, 404: {"description": "No such job"},
            409: {"description": "Not failed or cancelled (`job_not_retryable`), or its file is gone (`job_input_gone`)"},
            503: {"description": "Redis unreachable"},
        },
    )
    def retry_job(job_id: str, admin: AdminUser, session: SessionDep, enqueuer: EnqueuerDep, storage: StorageDep):
        """Run a failed or cancelled job again as a new job (admin only): same kind, parameters, file and owner.

        The new job's `retry_of` names the original, which stays as it was.
        """
        job = job_controls.retry(session=session, enqueuer=enqueuer, storage=storage, job_id=job_id, admin=admin)
        return JobAccepted(task_id=job.id, status_url=f"/jobs/{job.id}")

    @router.post("/diagnostic", response_model=JobAccepted, status_code=202, responses={503: {"description": "Redis unreachable"}})
    def submit_diagnostic(spec: DiagnosticIn, admin: AdminUser, session: SessionDep, enqueuer: EnqueuerDep):
        """Queue a diagnostic job that walks the whole path (queue, worker, database, storage) (admin only).

        Use it after a deploy or when adding a worker machine; the result names the worker that ran it.
        """
        job = enqueuer.submit(session=session, kind="diagnostic", task="run_diagnostic", owner=admin, params=spec.model_dump())
        return JobAccepted(task_id=job.id, status_url=f"/jobs/{job.id}")

    return router
