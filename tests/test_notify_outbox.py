"""The notification outbox on the database under test: a finish is owed until planned, and what is
still owed after NOTIFY_OUTBOX_AFTER_SECONDS is published again, once per look, oldest first."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from common import jobs
from common.db import session_scope, utcnow
from common.notify import deliveries, messages, outbox
from common.security import Principal, Role

OWNER = Principal(id=20, username="carla", role=Role.STAFF)
ROOMY = jobs.JobQuota(max_active=1000, retry_after_seconds=30)


def finished_job(sessions, *, status: str, minutes_ago: int, code: str | None = None, service: str = "petshop") -> str:
    with session_scope(sessions) as session:
        job = jobs.submit(session=session, service=service, kind="diagnostic", task_name=f"{service}.app.tasks.run_diagnostic",
                          owner=OWNER, params={}, publish=lambda job_id, priority: None, timeout=2.0, quota=ROOMY)
        job_id = job.id
    with session_scope(sessions) as session:
        if status == "completed":
            jobs.complete(session=session, job_id=job_id, result={})
        else:
            jobs.fail(session=session, job_id=job_id, error="x", code=code or "job_unexpected_error")
    with session_scope(sessions) as session:
        session.execute(update(jobs.Job).where(jobs.Job.id == job_id)
                        .values(finished_at=utcnow() - timedelta(minutes=minutes_ago)))
    return job_id


def look(sessions, service: str = "petshop", *, among: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """What one look publishes (of the jobs `among`, when given: other stories leave owed jobs too)."""
    published: list[tuple[str, str]] = []
    with session_scope(sessions) as session:
        outbox.send_owed(session=session, service=service, older_than=timedelta(minutes=2),
                         publish=lambda job_id, status: published.append((job_id, status)))
    return [item for item in published if not among or item[0] in among]


def notified_at(sessions, job_id: str):
    with session_scope(sessions) as session:
        return session.get(jobs.Job, job_id).notified_at


def test_a_finish_is_owed_until_planned_and_only_old_enough_owed_finishes_are_published_again(sessions):
    old_failed = finished_job(sessions, status="failed", minutes_ago=10)
    old_done = finished_job(sessions, status="completed", minutes_ago=5)
    recent = finished_job(sessions, status="completed", minutes_ago=0)  # its own publish may still be on its way
    other_service = finished_job(sessions, status="completed", minutes_ago=10, service="veterinaria")
    assert notified_at(sessions, old_done) is None

    mine = (old_failed, old_done, recent, other_service)

    assert look(sessions, among=mine) == [(old_failed, "failed"), (old_done, "completed")]
    assert look(sessions, among=mine) == [(old_failed, "failed"), (old_done, "completed")]  # nobody planned them yet
    assert look(sessions, "veterinaria", among=mine) == [(other_service, "completed")]

    with session_scope(sessions) as session:  # what notify_job_finished does
        deliveries.plan(session=session, job_id=old_done, status="completed", summarize=messages.default_summary,
                        console_url="http://console.example", timezone="Europe/Madrid")
    assert notified_at(sessions, old_done) is not None
    assert look(sessions, among=mine) == [(old_failed, "failed")]


def test_a_job_refused_at_submission_is_settled_without_a_message(sessions):
    refused = finished_job(sessions, status="failed", minutes_ago=10, code="queue_unavailable")

    assert look(sessions, among=(refused,)) == []
    assert notified_at(sessions, refused) is not None
