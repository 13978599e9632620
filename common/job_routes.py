"""`/jobs/` on a queue-using service: the caller's jobs and their status, read from the jobs table."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from common import jobs
from common.diagnostics import DiagnosticIn
from common.enqueue import EnqueuerDep
from common.jobs import JobAccepted, JobRead, JobStatus, JobSummary
from common.security import AdminUser, CurrentUser
from common.types import Offset
from common.web import SessionDep


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
    def read_job(job_id: str, user: CurrentUser, session: SessionDep):
        """One job: status (`queued`, `processing`, `retrying`, `completed`, `failed`), progress 0–100, result or error."""
        return jobs.get_visible(session=session, job_id=job_id, user=user, service=service)

    @router.post("/diagnostic", response_model=JobAccepted, status_code=202, responses={503: {"description": "Redis unreachable"}})
    def submit_diagnostic(spec: DiagnosticIn, admin: AdminUser, session: SessionDep, enqueuer: EnqueuerDep):
        """Queue a diagnostic job that walks the whole path (queue, worker, database, storage) (admin only).

        Use it after a deploy or when adding a worker machine; the result names the worker that ran it.
        """
        job = enqueuer.submit(session=session, kind="diagnostic", task="run_diagnostic", owner=admin, params=spec.model_dump())
        return JobAccepted(task_id=job.id, status_url=f"/jobs/{job.id}")

    return router
