"""Fault injection on a stack of its own: workers SIGKILLed or stopped mid-job, a poison job, Redis
or PostgreSQL stopped, a message lost from Redis. Each story checks what the jobs table says afterwards.
"""

from __future__ import annotations

import re

import psutil
import pytest
import redis

from tests.conftest import Client, login
from tests.jobs_helpers import submit_diagnostic, wait_for_job
from tests.servers import Process, RedisServer, Stack, wait_until

VISIBILITY_TIMEOUT = 15
MAX_RETRIES = 2
SOFT_SHUTDOWN_SECONDS = 2


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
            "WORKER_SOFT_SHUTDOWN_TIMEOUT": str(SOFT_SHUTDOWN_SECONDS),
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


def wait_until_running(admin, worker: Process, service: str, job_id: str, attempt: int = 1) -> None:
    """Until `worker` is inside the task body of this attempt (it has logged the attempt)."""
    wait_until(lambda: f"job {job_id} ({service}.app.tasks.run_diagnostic): attempt {attempt}" in worker.log(),
               timeout=60, what=f"attempt {attempt} of {job_id} running")


def test_a_job_whose_worker_process_is_killed_is_run_again_and_completes(admin, worker):
    job_id = submit_diagnostic(admin, "petshop", steps=6, step_seconds=0.5)
    wait_until_running(admin, worker, "petshop", job_id)

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
        wait_until_running(admin, worker, "petshop", job_id, attempt)
        kill_pool_children(worker)

    job = wait_for_job(admin, "petshop", job_id, timeout=30)
    assert job["status"] == "failed"
    assert job["error_code"] in ("job_worker_lost", "job_too_many_attempts")
    assert "inesperadamente" in job["error"] or "veces sin terminar" in job["error"]
    assert job["attempts"] == MAX_RETRIES + 1
    # the worker is still healthy: the next job runs
    assert wait_for_job(admin, "petshop", submit_diagnostic(admin, "petshop", steps=1))["status"] == "completed"


def idle(worker: Process) -> bool:
    """Every task the worker received has ended (succeeded, raised or was retried), by its log."""
    log = worker.log()
    received = set(re.findall(r"Task \S+\[([0-9a-f-]{36})\] received", log))
    ended = set(re.findall(r"Task \S+\[([0-9a-f-]{36})\] (?:succeeded|raised|retry)", log))
    return received <= ended


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


@pytest.mark.parametrize("signals_sent", [1, 2], ids=["sigterm", "sigterm-twice"])
def test_a_stopped_worker_hands_its_job_back_and_another_worker_completes_it(admin, fault_stack, redis_server,
                                                                             signals_sent):
    stopping = fault_stack.start_worker()
    # longer than the soft shutdown, shorter than the visibility timeout: only a hand-back can save it in time
    job_id = submit_diagnostic(admin, "petshop", steps=40, step_seconds=0.25)
    try:
        wait_until_running(admin, stopping, "petshop", job_id)
        for _ in range(signals_sent):
            stopping.terminate()  # what `docker stop` sends, through the container's init
        wait_until(lambda: not stopping.alive(), timeout=SOFT_SHUTDOWN_SECONDS + 30, what="the worker to exit")
    finally:
        stopping.kill()

    # back in the queue the moment the worker is gone, not after the visibility timeout
    assert redis.Redis(port=redis_server.port).llen("petshop") == 1
    assert admin.get("petshop", f"/jobs/{job_id}").json()["status"] != "completed"
    successor = fault_stack.start_worker()
    try:
        job = wait_for_job(admin, "petshop", job_id, timeout=60)
    finally:
        successor.stop()
    assert job["status"] == "completed", job
    assert job["result"]["worker"].split(":")[1] != str(stopping.pid)
