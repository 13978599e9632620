"""JobTask on the database under test: every way a job ends goes through the one finish path, and the
finish hooks see it exactly once, after its commit, never for a transaction that rolled back.

The task bodies run through Celery's `apply()` (eager: the tracer, on_failure and all, without a
broker); the worker paths that are plain functions (`_worker_lost`) are called as Celery calls them.
The same paths with real workers and HTTP are in tests/test_job_controls.py.
"""

from __future__ import annotations

import uuid

import pytest
from billiard.exceptions import WorkerLostError
from celery import Celery
from sqlalchemy import select

from common import job_controls, jobs, worker
from common.db import session_scope
from common.errors import BadInput, Conflict
from common.security import Principal, Role
from petshop.app.models import Store

ALICE = Principal(id=10, username="alice", role=Role.STAFF)
ROOT = Principal(id=1, username="admin", role=Role.ADMIN)
ROOMY = jobs.JobQuota(max_active=1000, retry_after_seconds=30)

BODIES = {}  # story name -> body(job, session, sessions)


@pytest.fixture(scope="module")
def story_task():
    app = Celery("job-task-stories", set_as_current=False)

    @app.task(base=worker.JobTask, name="petshop.app.tasks.story", max_retries=0)
    def story(job: worker.JobRun, session):
        return BODIES[job.params["story"]](job, session)

    return story


@pytest.fixture(autouse=True)
def worker_sessions(sessions, monkeypatch):
    """The worker's transactions (task_session, ProgressReporter) on the database under test."""
    monkeypatch.setattr(worker, "_session_factory", lambda: sessions)
    return sessions


@pytest.fixture
def finishes(sessions):
    """(job id, status, error_code, the status another connection reads at that moment) per hook call."""
    seen: list[tuple[str, str, str | None, str]] = []

    def hook(job: jobs.FinishedJob) -> None:
        with session_scope(sessions) as other:
            seen.append((job.id, job.status, job.error_code, other.get(jobs.Job, job.id).status))

    jobs.on_job_finished(hook)
    yield seen
    jobs._finished_hooks.remove(hook)


def new_job(sessions, story: str) -> str:
    with session_scope(sessions) as session:
        return jobs.submit(
            session=session, service="petshop", kind="story", task_name="petshop.app.tasks.story", owner=ALICE,
            params={"story": story}, publish=lambda job_id, priority: None, timeout=2.0, quota=ROOMY,
        ).id


def row(sessions, job_id: str) -> jobs.Job:
    with session_scope(sessions) as session:
        return session.get(jobs.Job, job_id)


def store_named(sessions, name: str) -> Store | None:
    with session_scope(sessions) as session:
        return session.scalar(select(Store).where(Store.name == name))


def request_cancel(sessions, job_id: str, user: Principal = ALICE) -> None:
    """What POST /jobs/{id}/cancel does, from another connection."""
    with session_scope(sessions) as session:
        job_controls.cancel(session=session, service="petshop", job_id=job_id, user=user)


def test_a_job_completes_in_the_transaction_of_its_domain_rows_and_is_announced_once_after_the_commit(
    sessions, story_task, finishes
):
    name = f"tienda {uuid.uuid4().hex[:6]}"

    def body(job, session):
        session.add(Store(name=name))
        session.flush()
        return {"store": name}  # no jobs.complete here: JobTask completes it, in this transaction

    BODIES["completes"] = body
    job_id = new_job(sessions, "completes")

    story_task.apply(args=[job_id], task_id=job_id)
    story_task.apply(args=[job_id], task_id=job_id)  # a redelivered message: skipped, nothing announced again

    assert row(sessions, job_id).status == "completed" and row(sessions, job_id).result == {"store": name}
    assert store_named(sessions, name) is not None
    assert finishes == [(job_id, "completed", None, "completed")]


@pytest.mark.parametrize(("error", "code"), [
    (BadInput("El archivo no vale.", code="story_bad_input"), "story_bad_input"),
    (RuntimeError("a bug"), "job_unexpected_error"),
])
def test_a_job_that_fails_after_writing_leaves_nothing_and_is_announced_once(sessions, story_task, finishes, error, code):
    name = f"tienda {uuid.uuid4().hex[:6]}"

    def body(job, session):
        session.add(Store(name=name))
        session.flush()
        raise error

    BODIES["fails"] = body
    job_id = new_job(sessions, "fails")

    story_task.apply(args=[job_id], task_id=job_id)

    assert row(sessions, job_id).status == "failed" and row(sessions, job_id).error_code == code
    assert store_named(sessions, name) is None
    assert finishes == [(job_id, "failed", code, "failed")]


def test_a_running_job_asked_to_stop_stops_at_its_next_progress_step(sessions, story_task, finishes):
    steps: list[int] = []

    def body(job, session):
        job.report_progress.interval = 0  # every step writes (and checks); a real one writes every 0.5 s at most
        job.report_progress(10)
        steps.append(10)
        request_cancel(sessions, job.id)  # someone presses «Cancelar» while it runs
        job.report_progress(60)  # raises JobCancelled
        steps.append(60)
        return {"never": True}

    BODIES["stops"] = body
    job_id = new_job(sessions, "stops")

    story_task.apply(args=[job_id], task_id=job_id)

    cancelled = row(sessions, job_id)
    assert steps == [10]
    assert cancelled.status == "cancelled" and cancelled.error_code == "job_cancelled"
    assert cancelled.error.startswith("Cancelado por alice.") and cancelled.result is None
    assert finishes == [(job_id, "cancelled", "job_cancelled", "cancelled")]


def test_a_cancel_requested_before_the_commit_rolls_back_a_job_that_reports_no_progress(sessions, story_task, finishes):
    name = f"tienda {uuid.uuid4().hex[:6]}"

    def body(job, session):
        request_cancel(sessions, job.id, user=ROOT)  # (first: on SQLite this session then takes the write lock)
        session.add(Store(name=name))
        session.flush()
        return {"store": name}

    BODIES["late_cancel"] = body
    job_id = new_job(sessions, "late_cancel")

    story_task.apply(args=[job_id], task_id=job_id)

    assert row(sessions, job_id).status == "cancelled" and row(sessions, job_id).error.startswith("Cancelado por admin.")
    assert store_named(sessions, name) is None
    assert finishes == [(job_id, "cancelled", "job_cancelled", "cancelled")]


def test_a_queued_job_cancelled_never_starts_and_a_finished_one_cannot_be_cancelled(sessions, story_task, finishes):
    BODIES["never"] = lambda job, session: pytest.fail("a cancelled job ran")
    job_id = new_job(sessions, "never")

    request_cancel(sessions, job_id)
    story_task.apply(args=[job_id], task_id=job_id)  # its message arrives anyway

    assert row(sessions, job_id).status == "cancelled" and row(sessions, job_id).attempts == 0
    with pytest.raises(Conflict) as refused:
        request_cancel(sessions, job_id)
    assert refused.value.code == "job_already_finished" and "ya terminó (cancelado)" in refused.value.message
    assert finishes == [(job_id, "cancelled", "job_cancelled", "cancelled")]


def test_a_job_asked_to_stop_whose_worker_was_lost_is_cancelled_when_its_message_comes_back(sessions, story_task, finishes):
    BODIES["lost"] = lambda job, session: pytest.fail("a job asked to stop ran again")
    job_id = new_job(sessions, "lost")
    with session_scope(sessions) as session:  # a worker started it, then its machine died
        jobs.begin_attempt(session=session, job_id=job_id, max_attempts=3)
    request_cancel(sessions, job_id)
    assert row(sessions, job_id).status == "processing" and row(sessions, job_id).cancel_requested

    story_task.apply(args=[job_id], task_id=job_id)  # redelivered after the visibility timeout

    assert row(sessions, job_id).status == "cancelled" and row(sessions, job_id).attempts == 1
    assert finishes == [(job_id, "cancelled", "job_cancelled", "cancelled")]


def test_a_job_whose_worker_process_died_for_good_is_failed_once(sessions, story_task, finishes):
    job_id = new_job(sessions, "dies")
    with session_scope(sessions) as session:
        jobs.begin_attempt(session=session, job_id=job_id, max_attempts=3)

    for _ in range(2):  # Celery's task_failure signal, as the worker's main process sends it; twice changes nothing
        worker._worker_lost(sender=story_task, task_id=job_id, exception=WorkerLostError("child died"))

    assert row(sessions, job_id).status == "failed"
    assert finishes == [(job_id, "failed", "job_worker_lost", "failed")]


def test_a_job_handed_on_stays_processing_until_a_part_fails_it_once(story_task, sessions, finishes):
    BODIES["handed_on"] = lambda job, session: worker.Deferred("two parts sent")
    tidied: list[tuple[str, str]] = []

    class Part(worker.JobPartTask):
        def after_job_failed(self, exc, **kwargs):
            tidied.append((kwargs["job_id"], type(exc).__name__))

    @story_task.app.task(base=Part, name="petshop.app.tasks.story_part", max_retries=0)
    def part(*, job_id: str, number: int):
        raise BadInput(f"La parte {number} no se puede leer.", code="part_unreadable")

    job_id = new_job(sessions, "handed_on")
    story_task.apply(args=[job_id], task_id=job_id)
    assert row(sessions, job_id).status == "processing" and finishes == []  # the parts will finish it

    part.apply(kwargs={"job_id": job_id, "number": 2})
    part.apply(kwargs={"job_id": job_id, "number": 3})  # a second failing part: the first finish stays

    job = row(sessions, job_id)
    assert (job.status, job.error_code, job.error) == ("failed", "part_unreadable", "La parte 2 no se puede leer.")
    assert [(status, code) for _, status, code, _ in finishes] == [("failed", "part_unreadable")]
    assert tidied == [(job_id, "BadInput"), (job_id, "BadInput")]
