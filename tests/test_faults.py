"""Fault injection on a stack of its own: workers SIGKILLed mid-job, a poison job, Redis stopped,
a message lost from Redis. Each story checks what the jobs table says afterwards.
"""

from __future__ import annotations

import time

import psutil
import pytest
import redis

from tests.conftest import Client, login
from tests.jobs_helpers import submit_diagnostic, wait_for_job
from tests.servers import Process, RedisServer, Stack, wait_until

VISIBILITY_TIMEOUT = 15
MAX_RETRIES = 2


@pytest.fixture(scope="module")
def redis_server(work_dir):
    server = RedisServer(work_dir / "faults-redis", work_dir / "logs").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fault_stack(work_dir, new_database_url, redis_server):
    running = Stack(
        base_dir=work_dir / "faults",
        database_url=new_database_url("timon_faults"),
        redis_url=redis_server.url,
        extra_env={
            "BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "TASK_MAX_RETRIES": str(MAX_RETRIES),
            "TASK_RETRY_BACKOFF_MAX": "2",
            "TASK_RETRY_DELAY_SECONDS": "1",
            "JOB_STALE_QUEUED_SECONDS": "3",
            "JOB_STALE_PROCESSING_SECONDS": "120",
            "RECONCILE_EVERY_SECONDS": "1",
        },
    )
    try:
        running.start(workers=0)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def admin(fault_stack) -> Client:
    return Client(fault_stack, login(fault_stack, "admin", fault_stack.admin_password))


@pytest.fixture
def worker(fault_stack):
    """A fresh worker for each story, stopped (or found dead) afterwards."""
    started = fault_stack.start_worker()
    yield started
    started.stop()


def pool_children(worker: Process) -> list[psutil.Process]:
    return psutil.Process(worker.pid).children(recursive=True)


def kill_pool_children(worker: Process) -> None:
    for child in pool_children(worker):
        child.kill()


def test_a_job_whose_worker_process_is_killed_is_run_again_and_completes(admin, worker):
    job_id = submit_diagnostic(admin, "petshop", steps=6, step_seconds=0.5)
    wait_for_job(admin, "petshop", job_id, statuses=("processing",), timeout=30)
    time.sleep(0.5)

    kill_pool_children(worker)  # as the kernel's OOM killer would

    job = wait_for_job(admin, "petshop", job_id, timeout=60)
    assert job["status"] == "completed", job
    assert job["attempts"] == 2
    assert worker.alive()


def test_a_job_survives_its_whole_worker_machine_dying(admin, fault_stack, worker):
    job_id = submit_diagnostic(admin, "veterinaria", steps=6, step_seconds=0.5)
    wait_for_job(admin, "veterinaria", job_id, statuses=("processing",), timeout=30)

    worker.kill()  # the main process too: nobody is left to requeue the message
    replacement = fault_stack.start_worker()
    try:
        # the unacked message comes back once the visibility timeout has passed
        job = wait_for_job(admin, "veterinaria", job_id, timeout=VISIBILITY_TIMEOUT + 60)
    finally:
        replacement.stop()

    assert job["status"] == "completed", job
    assert job["attempts"] == 2


def test_a_job_that_keeps_killing_its_worker_is_failed_not_looped(admin, worker):
    job_id = submit_diagnostic(admin, "petshop", steps=40, step_seconds=0.5)

    for attempt in range(1, MAX_RETRIES + 2):
        wait_until(
            lambda: admin.get("petshop", f"/jobs/{job_id}").json()["attempts"] == attempt and pool_children(worker),
            timeout=30, what=f"attempt {attempt} running",
        )
        time.sleep(0.3)
        kill_pool_children(worker)

    job = wait_for_job(admin, "petshop", job_id, timeout=30)
    assert job["status"] == "failed"
    assert "stopped unexpectedly" in job["error"] or "stopped its worker" in job["error"]
    assert job["attempts"] == MAX_RETRIES + 1
    # the worker is still healthy: the next job runs
    assert wait_for_job(admin, "petshop", submit_diagnostic(admin, "petshop", steps=1))["status"] == "completed"


def test_with_redis_down_submissions_get_503_quickly_and_recover_by_themselves(admin, fault_stack, redis_server, worker):
    redis_server.stop()
    try:
        started = time.monotonic()
        response = admin.post("petshop", "/jobs/diagnostic", json={"steps": 1})
        elapsed = time.monotonic() - started

        assert response.status_code == 503
        assert response.json()["code"] == "job_queue_unavailable" and "no responde" in response.json()["detail"]
        assert elapsed < 3
        assert admin.get("petshop", "/health").json()["components"]["queue"] == "unavailable"
        # the refused job is recorded as failed, not left queued
        refused = admin.get("petshop", "/jobs/", params={"limit": 1}).json()[0]
        assert refused["status"] == "failed" and "no respondía" in refused["error"]
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
        assert "database is unavailable" in response.json()["detail"]
        health = admin.get("veterinaria", "/health")
        assert health.status_code == 503 and health.json()["components"]["database"] == "unavailable"
    finally:
        postgres.resume()

    wait_until(lambda: admin.get("petshop", "/jobs/").status_code == 200, timeout=30, what="petshop back")
    assert admin.get("auth", "/users/me").status_code == 200
