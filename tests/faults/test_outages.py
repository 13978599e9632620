"""What the system does while Redis or the database is away, and that it recovers by itself.
"""

from __future__ import annotations

import pytest
import redis

from tests.faults.conftest import MAX_RETRIES, idle, wait_until_running
from tests.jobs_helpers import submit_diagnostic, wait_for_job
from tests.servers import Process, Stack, wait_until


def test_with_redis_down_submissions_get_503_quickly_and_recover_by_themselves(admin, fault_stack, redis_server, worker):
    # the previous story's notification tasks may still reach this worker: stopping Redis while one
    # is unacked hits a kombu race (restoring it on a closed connection ends the worker with
    # "'NoneType' object has no attribute 'hostname'"), which is not what this story is about
    broker = redis.Redis(port=redis_server.port)
    queued = lambda: sum(broker.llen(key) for key in broker.scan_iter("petshop*") if broker.type(key) == b"list")  # noqa: E731
    wait_until(lambda: queued() == 0 and idle(worker), timeout=30, what="the queues empty and the worker idle")
    redis_server.stop()
    try:
        response = admin.post("petshop", "/jobs/diagnostic", json={"steps": 1})  # how fast: bench/enqueue_outage.py

        assert response.status_code == 503
        assert response.json()["code"] == "queue_unavailable"
        assert admin.get("petshop", "/health").json()["components"]["queue"] == "unavailable"
        # the refused job is recorded as failed, not left queued
        refused = admin.get("petshop", "/jobs/", params={"limit": 1}).json()[0]
        assert refused["status"] == "failed" and refused["error_code"] == "queue_unavailable"
    finally:
        redis_server.process.start()
        wait_until(lambda: redis.Redis(port=redis_server.port).ping(), timeout=10, what="redis back")

    # no restart of the services or the worker: they reconnect
    wait_until(lambda: admin.get("petshop", "/health").status_code == 200, timeout=20, what="petshop healthy")
    job_id = submit_diagnostic(admin, "petshop", steps=1, step_seconds=0)
    assert wait_for_job(admin, "petshop", job_id, timeout=60)["status"] == "completed"


def test_a_job_lost_from_redis_is_found_by_the_reconciler_and_sent_again(admin, fault_stack, redis_server):
    # no worker yet: the message sits in the queue, then Redis loses it
    job_id = submit_diagnostic(admin, "petshop", steps=1, step_seconds=0)
    client = redis.Redis(port=redis_server.port)
    assert client.llen("petshop") >= 1
    client.delete("petshop")

    beat = Process(
        "beat",
        [*Stack.celery_command(), "beat", "--loglevel=info", f"--schedule={fault_stack.base_dir / 'beat-schedule'}"],
        env=fault_stack.env,
        log_dir=fault_stack.log_dir,
    ).start()
    worker = fault_stack.start_worker()
    try:
        job = wait_for_job(admin, "petshop", job_id, timeout=60)
    finally:
        beat.stop()
        worker.stop()

    assert job["status"] == "completed", job
    assert job["attempts"] == 1
    assert job["requeues"] == 1


def test_with_the_database_down_requests_get_503_and_recover_by_themselves(admin, request, database_kind):
    if database_kind != "postgresql":
        pytest.skip("a database server to stop exists only on PostgreSQL; SQLite is a file")
    postgres = request.getfixturevalue("postgres_server")
    postgres.stop()
    try:
        response = admin.get("petshop", "/jobs/")
        assert response.status_code == 503
        assert response.json()["code"] == "database_unavailable"
        health = admin.get("veterinaria", "/health")
        assert health.status_code == 503 and health.json()["components"]["database"] == "unavailable"
    finally:
        postgres.resume()

    wait_until(lambda: admin.get("petshop", "/jobs/").status_code == 200, timeout=30, what="petshop back")
    assert admin.get("auth", "/users/me").status_code == 200


def test_a_job_whose_database_goes_away_mid_run_completes_once_it_is_back(admin, request, database_kind, worker):
    if database_kind != "postgresql":
        pytest.skip("a database server to stop exists only on PostgreSQL; SQLite is a file")
    postgres = request.getfixturevalue("postgres_server")
    job_id = submit_diagnostic(admin, "petshop", steps=20, step_seconds=0.25)
    wait_until_running(admin, worker, "petshop", job_id)

    postgres.stop()
    try:
        # more tries than the retry budget allows: an outage must not spend it
        wait_until(lambda: worker.log().count(f"job {job_id}: database unreachable") > MAX_RETRIES + 2,
                   timeout=60, what="the worker waiting for the database")
    finally:
        postgres.resume()

    job = wait_for_job(admin, "petshop", job_id, timeout=60)
    assert job["status"] == "completed", job
    assert job["attempts"] == 2  # the attempt the outage cut short, and the one after it
    assert job["result"]["steps"] == 20
