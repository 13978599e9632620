"""A worker holding an unacked message when Redis goes away must survive and lose nothing.
"""

from __future__ import annotations

import redis

from tests.faults.conftest import wait_until_running
from tests.jobs_helpers import submit_diagnostic, wait_for_job
from tests.servers import wait_until


def test_a_worker_holding_a_running_job_survives_redis_going_away(admin, redis_server, worker):
    job_id = submit_diagnostic(admin, "petshop", steps=12, step_seconds=0.5)
    wait_until_running(admin, worker, "petshop", job_id)

    redis_server.stop()  # the job's message is unacked in this worker: it is running
    try:
        wait_for_job(admin, "petshop", job_id, timeout=60)
    finally:
        redis_server.process.start()
        wait_until(lambda: redis.Redis(port=redis_server.port).ping(), timeout=10, what="redis back")

    after = submit_diagnostic(admin, "petshop", steps=1, step_seconds=0)
    assert wait_for_job(admin, "petshop", after, timeout=60)["status"] == "completed"
    assert worker.alive(), worker.log()[-3000:]
    job = admin.get("petshop", f"/jobs/{job_id}").json()
    assert job["status"] == "completed" and job["attempts"] == 1


def test_a_job_that_finishes_after_redis_is_back_is_acked_or_redelivered_and_completes_once(admin, redis_server, worker):
    job_id = submit_diagnostic(admin, "petshop", steps=30, step_seconds=0.5)
    wait_until_running(admin, worker, "petshop", job_id)

    redis_server.stop()  # a short outage in the middle of the job: it finishes once Redis is back
    try:
        wait_until(lambda: "Connection to broker lost" in worker.log(), timeout=30, what="the worker to notice")
    finally:
        redis_server.process.start()
        wait_until(lambda: redis.Redis(port=redis_server.port).ping(), timeout=10, what="redis back")

    job = wait_for_job(admin, "petshop", job_id, timeout=90)
    after = submit_diagnostic(admin, "petshop", steps=1, step_seconds=0)
    assert wait_for_job(admin, "petshop", after, timeout=60)["status"] == "completed"
    assert worker.alive(), worker.log()[-3000:]
    assert job["status"] == "completed" and job["attempts"] == 1, job
