"""`/schedules/` on a queue-using service: an admin's scheduled jobs (create, list, pause, resume, delete)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from common.db import utcnow
from common.schedules import service
from common.schedules.kinds import Kinds
from common.schedules.schemas import ScheduleCreate, ScheduledKindRead, ScheduleRead
from common.security import AdminUser
from common.types import DbId, Offset
from common.web import SessionDep, SettingsDep

NOT_FOUND = {404: {"description": "No such schedule on this service (`schedule_not_found`)"}}


def make_schedules_router(kinds: Kinds) -> APIRouter:
    router = APIRouter(prefix="/schedules", tags=["schedules"])

    @router.get("/kinds", response_model=list[ScheduledKindRead])
    def list_kinds(admin: AdminUser):
        """The job kinds that can be scheduled on this service, with the JSON schema of their `params` (admin only)."""
        return [ScheduledKindRead(kind=kind.name, description=kind.description, params_schema=kind.params.model_json_schema())
                for kind in kinds]

    @router.post("/", response_model=ScheduleRead, status_code=status.HTTP_201_CREATED, responses={
        404: {"description": "A record the params name does not exist (e.g. `store_not_found`)"},
        422: {"description": "Unknown kind, bad params, bad crontab, unknown time zone, or both or neither of cron and interval"},
    })
    def create_schedule(schedule_in: ScheduleCreate, admin: AdminUser, session: SessionDep, settings: SettingsDep):
        """Schedule a job kind of this service (admin only): a crontab in a time zone, or an interval in seconds.

        Each run is a normal job owned by you: it shows in `GET /jobs/` and `last_job_id` names the latest.
        A run missed while the scheduler was down runs once when it is back, not once per missed period.
        """
        return service.create(session=session, kinds=kinds, schedule_in=schedule_in, owner=admin, now=utcnow(),
                              min_interval_seconds=settings.schedule_min_interval_seconds)

    @router.get("/", response_model=list[ScheduleRead])
    def list_schedules(
        admin: AdminUser, session: SessionDep, kind: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: Offset = 0,
    ):
        """This service's schedules, oldest first (admin only)."""
        return service.list_(session=session, service=kinds.service, kind=kind, limit=limit, offset=offset)

    @router.get("/{schedule_id}", response_model=ScheduleRead, responses=NOT_FOUND)
    def read_schedule(schedule_id: DbId, admin: AdminUser, session: SessionDep):
        """One schedule: its next run, its last run's job or why it made none (admin only)."""
        return service.get_or_404(session=session, service=kinds.service, schedule_id=schedule_id)

    @router.post("/{schedule_id}/pause", response_model=ScheduleRead, responses=NOT_FOUND)
    def pause_schedule(schedule_id: DbId, admin: AdminUser, session: SessionDep):
        """Stop running it until resumed (admin only); a job already queued still runs."""
        return service.set_enabled(session=session, service=kinds.service, schedule_id=schedule_id, enabled=False,
                                   now=utcnow())

    @router.post("/{schedule_id}/resume", response_model=ScheduleRead, responses=NOT_FOUND)
    def resume_schedule(schedule_id: DbId, admin: AdminUser, session: SessionDep):
        """Run it again (admin only), from the next time due after now: what was missed while paused is not run."""
        return service.set_enabled(session=session, service=kinds.service, schedule_id=schedule_id, enabled=True,
                                   now=utcnow())

    @router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
    def delete_schedule(schedule_id: DbId, admin: AdminUser, session: SessionDep):
        """Delete it (admin only); the jobs its runs made stay in `GET /jobs/`."""
        service.delete(session=session, service=kinds.service, schedule_id=schedule_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
