"""The job registry on the database under test: submission, attempts, finishing, the reconciler."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from common import jobs, reconciler
from common.db import session_scope, utcnow
from common.errors import NotFound, ServiceUnavailable
from common.job_results import MAX_RESULT_BYTES
from common.security import Principal, Role

ALICE = Principal(id=10, username="alice", role=Role.STAFF)
BOB = Principal(id=11, username="bob", role=Role.STAFF)
ROOT = Principal(id=1, username="admin", role=Role.ADMIN)


ROOMY = jobs.JobQuota(max_active=1000, retry_after_seconds=30)  # these stories leave jobs queued


def submit(sessions, owner=ALICE, publish=lambda job_id, priority: None, timeout=2.0, quota=ROOMY) -> jobs.Job:
    with session_scope(sessions) as session:
        return jobs.submit(
            session=session, service="petshop", kind="diagnostic", task_name="petshop.app.tasks.run_diagnostic",
            owner=owner, params={"steps": 1}, publish=publish, timeout=timeout, quota=quota,
        )


def reload(sessions, job_id) -> jobs.Job:
    with session_scope(sessions) as session:
        return session.get(jobs.Job, job_id)


def test_a_submitted_job_is_committed_before_it_is_published(sessions):
    seen_by_publisher = []

    def publish(job_id, priority):  # what a worker would see at that moment, from another connection
        with session_scope(sessions) as other:
            seen_by_publisher.append(other.get(jobs.Job, job_id).status)

    job = submit(sessions, publish=publish)

    assert seen_by_publisher == ["queued"]
    assert reload(sessions, job.id).status == "queued"


def test_when_publishing_fails_the_job_is_failed_and_503_raised(sessions):
    def broken(job_id, priority):
        raise ConnectionRefusedError("redis down")

    with pytest.raises(ServiceUnavailable):
        submit(sessions, publish=broken)

    with session_scope(sessions) as session:
        latest = jobs.list_visible(session=session, user=ALICE, limit=1)[0]
    assert latest.status == "failed" and latest.error_code == "queue_unavailable" and "cola de trabajos" in latest.error


def test_a_publish_that_hangs_is_abandoned_after_the_timeout(sessions):
    import threading

    release = threading.Event()
    with pytest.raises(ServiceUnavailable):
        submit(sessions, publish=lambda job_id, priority: release.wait(10), timeout=0.3)
    release.set()


def test_others_jobs_look_absent_and_admins_see_all(sessions):
    job = submit(sessions, owner=ALICE)
    with session_scope(sessions) as session:
        assert jobs.get_visible(session=session, job_id=job.id, user=ALICE).id == job.id
        assert jobs.get_visible(session=session, job_id=job.id, user=ROOT).id == job.id
        with pytest.raises(NotFound):
            jobs.get_visible(session=session, job_id=job.id, user=BOB)
        with pytest.raises(NotFound):
            jobs.get_visible(session=session, job_id="../../etc/passwd", user=ROOT)
        with pytest.raises(NotFound):
            jobs.get_visible(session=session, job_id=job.id, user=ALICE, service="veterinaria")


def test_a_finished_job_is_not_run_again_on_redelivery(sessions):
    job = submit(sessions)
    with session_scope(sessions) as session:
        assert jobs.begin_attempt(session=session, job_id=job.id, max_attempts=3) is not None
    with session_scope(sessions) as session:
        jobs.complete(session=session, job_id=job.id, result={"n": 1})

    with session_scope(sessions) as session:
        assert jobs.begin_attempt(session=session, job_id=job.id, max_attempts=3) is None
    finished = reload(sessions, job.id)
    assert finished.status == "completed" and finished.attempts == 1 and finished.result == {"n": 1}


def test_finishing_twice_keeps_the_first_outcome(sessions):
    job = submit(sessions)
    with session_scope(sessions) as session:
        jobs.fail(session=session, job_id=job.id, error="archivo erróneo", code="bad_input")
    with session_scope(sessions) as session:
        jobs.complete(session=session, job_id=job.id, result={"late": True})
    assert reload(sessions, job.id).status == "failed"


def test_a_job_started_too_often_is_failed_instead_of_run(sessions):
    job = submit(sessions)
    for _ in range(2):
        with session_scope(sessions) as session:
            assert jobs.begin_attempt(session=session, job_id=job.id, max_attempts=2) is not None

    with session_scope(sessions) as session:
        assert jobs.begin_attempt(session=session, job_id=job.id, max_attempts=2) is None
    abandoned = reload(sessions, job.id)
    assert abandoned.status == "failed" and abandoned.error_code == "job_too_many_attempts" and "2 veces" in abandoned.error


def test_progress_is_recorded_only_while_processing_and_clamped(sessions):
    job = submit(sessions)
    with session_scope(sessions) as session:
        jobs.set_progress(session=session, job_id=job.id, progress=50)
    assert reload(sessions, job.id).progress == 0  # still queued
    with session_scope(sessions) as session:
        jobs.begin_attempt(session=session, job_id=job.id, max_attempts=3)
        jobs.set_progress(session=session, job_id=job.id, progress=140)
    assert reload(sessions, job.id).progress == 100


def age(sessions, job_id, seconds: int) -> None:
    with session_scope(sessions) as session:
        session.execute(update(jobs.Job).where(jobs.Job.id == job_id).values(updated_at=utcnow() - timedelta(seconds=seconds)))


def reconcile(sessions, published, max_requeues=2):
    with session_scope(sessions) as session:
        return reconciler.reconcile(
            session=session, service="petshop", stale_queued=timedelta(seconds=60),
            stale_processing=timedelta(seconds=600), max_requeues=max_requeues,
            publish=lambda job, priority: published.append(job.id),
        )


def test_the_reconciler_resends_stale_jobs_and_leaves_fresh_ones(sessions):
    reconcile(sessions, [])  # start from a clean slate
    fresh = submit(sessions)
    lost = submit(sessions)
    running = submit(sessions)
    dead = submit(sessions)
    for job in (running, dead):
        with session_scope(sessions) as session:
            jobs.begin_attempt(session=session, job_id=job.id, max_attempts=5)
    age(sessions, lost.id, 120)
    age(sessions, running.id, 120)  # quiet for 2 minutes: within the processing limit
    age(sessions, dead.id, 1200)

    published: list[str] = []
    counts = reconcile(sessions, published)

    assert sorted(published) == sorted([lost.id, dead.id])
    assert counts == {"requeued": 2, "failed": 0, "cancelled": 0}
    assert reload(sessions, fresh.id).status == "queued" and reload(sessions, fresh.id).requeues == 0
    assert reload(sessions, dead.id).status == "queued" and reload(sessions, dead.id).requeues == 1
    assert reload(sessions, running.id).status == "processing"


def test_the_reconciler_gives_up_after_the_requeue_cap(sessions):
    reconcile(sessions, [])
    job = submit(sessions)
    published: list[str] = []
    for _ in range(3):
        age(sessions, job.id, 120)
        reconcile(sessions, published, max_requeues=2)

    final = reload(sessions, job.id)
    assert published == [job.id, job.id]
    assert final.status == "failed" and final.error_code == "job_stalled" and "Envíalo de nuevo" in final.error


def test_a_result_too_big_for_the_row_is_trimmed_and_flagged(sessions):
    job = submit(sessions)
    huge = {"rows": 123, "names": [f"columna {i}" for i in range(200_000)], "text": "x" * 1_000_000}
    with session_scope(sessions) as session:
        jobs.begin_attempt(session=session, job_id=job.id, max_attempts=3)
        jobs.complete(session=session, job_id=job.id, result=huge)
    stored = reload(sessions, job.id).result
    assert stored["rows"] == 123 and stored["result_truncated"] is True
    assert len(stored["names"]) == 50 and len(stored["text"]) < 2100
    assert len(json.dumps(stored)) <= MAX_RESULT_BYTES


def test_a_small_result_is_kept_as_it_is(sessions):
    job = submit(sessions)
    with session_scope(sessions) as session:
        jobs.begin_attempt(session=session, job_id=job.id, max_attempts=3)
        jobs.complete(session=session, job_id=job.id, result={"names": ["a"] * 100})
    assert reload(sessions, job.id).result == {"names": ["a"] * 100}


@pytest.fixture
def finished_hook_calls():
    """Every job id the finish hooks see while the test runs."""
    seen: list[tuple[str, str]] = []
    hook = jobs.on_job_finished(lambda job: seen.append((job.id, job.error_code)))
    yield seen
    jobs._finished_hooks.remove(hook)


def test_no_way_of_failing_a_job_skips_the_finish_hooks(sessions, finished_hook_calls):
    stalled = submit(sessions)
    for _ in range(2):
        age(sessions, stalled.id, 120)
        reconcile(sessions, [], max_requeues=1)
    crashing = submit(sessions)
    for _ in range(3):
        with session_scope(sessions) as session:
            jobs.begin_attempt(session=session, job_id=crashing.id, max_attempts=2)
    with pytest.raises(ServiceUnavailable):
        submit(sessions, publish=lambda job_id, priority: (_ for _ in ()).throw(ConnectionRefusedError("redis down")))

    codes = [code for _, code in finished_hook_calls]
    assert codes == ["job_stalled", "job_too_many_attempts", "queue_unavailable"]


def test_finish_hooks_run_after_the_commit_and_never_for_a_finish_that_rolls_back(sessions, finished_hook_calls):
    rolled_back = submit(sessions)
    with pytest.raises(RuntimeError), session_scope(sessions) as session:
        jobs.begin_attempt(session=session, job_id=rolled_back.id, max_attempts=3)
        jobs.complete(session=session, job_id=rolled_back.id, result={"rows": 1})
        assert finished_hook_calls == []  # flushed, not committed: nobody is told yet
        raise RuntimeError("the domain write failed after the finish")
    assert finished_hook_calls == []
    assert reload(sessions, rolled_back.id).status == "queued"

    committed = submit(sessions)
    with session_scope(sessions) as session:
        jobs.begin_attempt(session=session, job_id=committed.id, max_attempts=3)
        jobs.complete(session=session, job_id=committed.id, result={"rows": 1})
        assert finished_hook_calls == []
    assert finished_hook_calls == [(committed.id, None)]


def test_the_reconciler_cancels_a_silent_job_that_was_asked_to_stop_instead_of_sending_it_again(sessions,
                                                                                              finished_hook_calls):
    reconcile(sessions, [])
    job = submit(sessions)
    with session_scope(sessions) as session:
        jobs.begin_attempt(session=session, job_id=job.id, max_attempts=3)
        session.get(jobs.Job, job.id).cancel_requested_at = utcnow()  # then its worker vanished
    age(sessions, job.id, 1200)

    published: list[str] = []
    counts = reconcile(sessions, published)

    assert published == [] and counts == {"requeued": 0, "failed": 0, "cancelled": 1}
    assert reload(sessions, job.id).status == "cancelled" and reload(sessions, job.id).error == (
        "Cancelado. El trabajo se detuvo sin guardar nada; un administrador puede reintentarlo.")
    assert finished_hook_calls == [(job.id, "job_cancelled")]


def test_the_reconciler_resends_a_lost_job_at_the_priority_its_owner_would_get_now(sessions):
    reconcile(sessions, [])
    carol = Principal(id=12, username="carol", role=Role.STAFF)
    lost = [submit(sessions, owner=carol) for _ in range(3)]  # one owner, three unfinished jobs
    for job in lost:
        age(sessions, job.id, 120)

    priorities: list[int] = []
    with session_scope(sessions) as session:
        reconciler.reconcile(
            session=session, service="petshop", stale_queued=timedelta(seconds=60),
            stale_processing=timedelta(seconds=600), max_requeues=2,
            publish=lambda job, priority: priorities.append(priority) if job.owner_id == carol.id else None,
        )

    assert priorities == [2, 2, 2]  # each waits behind the owner's two others, as a new submission would
