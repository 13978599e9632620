"""Schedules: create, list, pause, resume, delete; and fire the ones that are due, each exactly once.

Firing a run (`fire`) is one transaction: a conditional UPDATE moves `next_run_at` from the value
that was read to the next one, and the run's job row is inserted by `jobs.submit`, whose commit
covers both. A second dispatcher (a second beat started by mistake) reading the same row either
waits on the row lock (PostgreSQL) or on the database's one write lock (SQLite, BEGIN IMMEDIATE),
then finds `next_run_at` moved and updates nothing: no job. After downtime the next run is computed
from now, so a schedule that missed ten periods runs once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete as sql_delete
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from common.enqueue import Enqueuer
from common.errors import BadInput, DomainError, NotFound
from common.jobs import Job
from common.schedules.kinds import Kinds
from common.schedules.models import Schedule
from common.schedules.schemas import ScheduleCreate
from common.schedules.timing import check_cron, next_cron_run, next_interval_run, parse_timezone
from common.security import Principal, Role

log = logging.getLogger(__name__)


def create(
    *, session: Session, kinds: Kinds, schedule_in: ScheduleCreate, owner: Principal, now: datetime,
    min_interval_seconds: int,
) -> Schedule:
    """Check the kind, its params, the crontab or interval and the zone; record the schedule with its first run."""
    kind = kinds.get(schedule_in.kind)
    cron = interval = None
    if (schedule_in.cron is None) == (schedule_in.interval_seconds is None):
        raise BadInput("Indica cuándo se ejecuta: una expresión «cron» o un intervalo «interval_seconds», uno de los dos.",
                       code="schedule_needs_one_timing")
    parse_timezone(schedule_in.timezone)
    if schedule_in.cron is not None:
        cron = check_cron(schedule_in.cron)
    else:
        interval = schedule_in.interval_seconds
        if interval < min_interval_seconds:
            raise BadInput(f"El intervalo mínimo es de {min_interval_seconds} segundos.", code="schedule_interval_too_short")
    params = kind.validate(session=session, raw=schedule_in.params)
    schedule = Schedule(
        service=kinds.service, name=schedule_in.name, kind=kind.name, params=params, cron=cron,
        timezone=schedule_in.timezone, interval_seconds=interval, enabled=schedule_in.enabled,
        owner_id=owner.id, owner_username=owner.username, created_at=now, updated_at=now,
        run_count=0,
    )
    schedule.next_run_at = _first_run(schedule, now) if schedule.enabled else None
    session.add(schedule)
    session.flush()
    return schedule


def list_(*, session: Session, service: str, kind: str | None = None, limit: int = 50, offset: int = 0) -> list[Schedule]:
    """This service's schedules, oldest first."""
    query = select(Schedule).where(Schedule.service == service).order_by(Schedule.id).limit(limit).offset(offset)
    if kind is not None:
        query = query.where(Schedule.kind == kind)
    return list(session.scalars(query))


def get_or_404(*, session: Session, service: str, schedule_id: int, for_update: bool = False) -> Schedule:
    """One of this service's schedules, or 404 `schedule_not_found`; `for_update` waits for a run being fired."""
    schedule = session.get(Schedule, schedule_id, with_for_update=for_update)
    if schedule is None or schedule.service != service:
        raise NotFound(f"No existe ninguna programación con id {schedule_id}.", code="schedule_not_found")
    return schedule


def set_enabled(*, session: Session, service: str, schedule_id: int, enabled: bool, now: datetime) -> Schedule:
    """Pause (no more runs) or resume (the next run counted from now: what was missed while paused is not run)."""
    # locked: a run being fired commits first, and the answer shows it (run_count, last_job_id)
    schedule = get_or_404(session=session, service=service, schedule_id=schedule_id, for_update=True)
    if schedule.enabled != enabled:
        schedule.enabled = enabled
        schedule.next_run_at = _first_run(schedule, now) if enabled else None
        schedule.updated_at = now
        session.flush()
    return schedule


def delete(*, session: Session, service: str, schedule_id: int) -> None:
    """Delete a schedule; the jobs its runs made stay."""
    get_or_404(session=session, service=service, schedule_id=schedule_id, for_update=True)
    session.execute(sql_delete(Schedule).where(Schedule.id == schedule_id))


def due_ids(*, session: Session, service: str, now: datetime) -> list[int]:
    """The ids of this service's enabled schedules whose next run is at or before `now`."""
    return list(session.scalars(
        select(Schedule.id).where(Schedule.service == service, Schedule.enabled.is_(True), Schedule.next_run_at <= now)
        .order_by(Schedule.next_run_at)
    ))


def fire(*, session: Session, schedule_id: int, kinds: Kinds, enqueuer: Enqueuer, now: datetime) -> str | None:
    """Run one due schedule once: claim it, submit its job, record the outcome. The job id, or None.

    None when another dispatcher claimed this run first, or when the run made no job (the error
    is kept on the schedule). `jobs.submit` commits the claim with the job row.
    """
    schedule = session.get(Schedule, schedule_id)
    if schedule is None or not schedule.enabled or schedule.next_run_at is None or schedule.next_run_at > now:
        return None
    due_at = schedule.next_run_at
    claimed = session.execute(
        update(Schedule)
        .where(Schedule.id == schedule_id, Schedule.enabled.is_(True), Schedule.next_run_at == due_at)
        .values(next_run_at=_next_run(schedule, due_at, now), last_run_at=now, updated_at=now,
                run_count=Schedule.run_count + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        session.rollback()
        return None
    kind_name, params = schedule.kind, schedule.params
    owner = Principal(id=schedule.owner_id, username=schedule.owner_username, role=Role.ADMIN)

    def name_the_job(session: Session) -> None:
        # jobs.submit commits the job row it creates: the schedule names it in that same commit, so
        # nobody reads a run counted without its job
        for job in [obj for obj in session.new if isinstance(obj, Job)]:
            session.execute(update(Schedule).where(Schedule.id == schedule_id)
                            .values(last_job_id=job.id, last_error=None, last_error_code=None)
                            .execution_options(synchronize_session=False))

    event.listen(session, "before_commit", name_the_job)
    try:
        job_id = kinds.get(kind_name).fire(session=session, enqueuer=enqueuer, owner=owner, raw=params).id
    except DomainError as exc:  # the store is gone, the owner's quota is full, Redis is down: this run is skipped
        log.warning("schedule %s: the run due at %s made no job: %s (%s)", schedule_id, due_at, exc.message, exc.code)
        session.execute(update(Schedule).where(Schedule.id == schedule_id)
                        .values(last_error=exc.message, last_error_code=exc.code)
                        .execution_options(synchronize_session=False))
        return None
    finally:
        event.remove(session, "before_commit", name_the_job)
    log.info("schedule %s (%s): the run due at %s made job %s", schedule_id, kind_name, due_at, job_id)
    return job_id


def _first_run(schedule: Schedule, now: datetime) -> datetime:
    if schedule.cron is not None:
        return next_cron_run(schedule.cron, parse_timezone(schedule.timezone), after=now)
    return now + timedelta(seconds=schedule.interval_seconds)


def _next_run(schedule: Schedule, due_at: datetime, now: datetime) -> datetime:
    """The first run after `now`: the periods missed while nothing fired are skipped, not replayed."""
    if schedule.cron is not None:
        return next_cron_run(schedule.cron, parse_timezone(schedule.timezone), after=now)
    return next_interval_run(due_at, schedule.interval_seconds, after=now)
