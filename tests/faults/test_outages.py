"""What the system does while Redis or the database is away, and that it recovers by itself.

Redis runs append-only with `appendfsync everysec` here as in compose and `make up`: every write
reaches the kernel before Redis answers, so a stopped or SIGKILLed Redis loses no message it
acknowledged; only a machine crash can lose the last second, which the reconciler publishes again
from the jobs table. S3, SMTP and a full disk have modules of their own.
"""

from __future__ import annotations

import re

import pytest
import redis

from tests.faults.conftest import MAX_RETRIES, idle, wait_until_running
from tests.faults.outage_helpers import (
    cut_the_jobs_next_statement,
    inventory_csv,
    local_files,
    new_store,
    queued_messages,
    restart_redis,
    stock_skus,
    upload_inventory,
)
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


def test_redis_stopped_with_jobs_running_and_queued_every_accepted_job_completes_and_uploads_get_503(
    admin, fault_stack, redis_server, worker,
):
    # fault: Redis stops (SIGTERM) while two jobs run and three wait in its queue
    # expected: uploads meanwhile are refused 503 `queue_unavailable`, recorded failed, their file
    # deleted; after the restart every job accepted before the outage completes once, with nothing
    # re-published by the reconciler (no beat runs here): the messages came back from the AOF
    wait_until(lambda: queued_messages(redis_server) == 0 and idle(worker), timeout=30, what="a quiet start")
    store = new_store(admin)
    content, skus = inventory_csv(40)
    accepted = [submit_diagnostic(admin, "petshop", steps=16, step_seconds=0.25) for _ in range(4)]
    upload = upload_inventory(admin, store, content)
    assert upload.status_code == 202, upload.text
    accepted.append(upload.json()["task_id"])
    wait_until_running(admin, worker, "petshop", accepted[0])
    wait_until_running(admin, worker, "petshop", accepted[1])
    assert queued_messages(redis_server) >= 2  # still in Redis's queue, not yet taken by the worker

    redis_server.stop()
    try:
        refused = upload_inventory(admin, store, inventory_csv(3)[0])  # how fast: bench/enqueue_outage.py

        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "queue_unavailable"
        assert "cola de trabajos" in refused.json()["detail"]
        recorded = admin.get("petshop", "/jobs/", params={"limit": 1}).json()[0]
        assert recorded["id"] not in accepted
        assert recorded["status"] == "failed" and recorded["error_code"] == "queue_unavailable"
    finally:
        restart_redis(redis_server)

    finished = {job_id: wait_for_job(admin, "petshop", job_id, timeout=120) for job_id in accepted}

    assert [job["status"] for job in finished.values()] == ["completed"] * 5, finished
    assert all(job["requeues"] == 0 for job in finished.values())
    assert all(job["result"]["steps"] == 16 for job in list(finished.values())[:4])
    assert stock_skus(admin, store) == {sku: int(sku[-4:]) + 1 for sku in skus}  # every row, once
    wait_until(lambda: local_files(fault_stack) == [], timeout=30, what="the import's upload and the refused one gone")


def test_redis_sigkilled_right_after_jobs_were_published_loses_none_of_them(admin, fault_stack, redis_server):
    # fault: Redis is SIGKILLed (no shutdown, no final AOF rewrite) the moment five submissions were answered
    # expected: the five messages are in Redis again after the restart and each job completes once;
    # the reconciler (which would hide a loss) does not run here, so requeues stays 0
    store = new_store(admin)
    content, skus = inventory_csv(25)
    before = queued_messages(redis_server)
    accepted = [submit_diagnostic(admin, "petshop", steps=1, step_seconds=0) for _ in range(4)]
    upload = upload_inventory(admin, store, content)
    assert upload.status_code == 202, upload.text
    accepted.append(upload.json()["task_id"])

    redis_server.kill()
    restart_redis(redis_server)

    assert queued_messages(redis_server) == before + 5
    worker = fault_stack.start_worker()
    try:
        finished = [wait_for_job(admin, "petshop", job_id, timeout=90) for job_id in accepted]
    finally:
        worker.stop()

    assert [(job["status"], job["attempts"], job["requeues"]) for job in finished] == [("completed", 1, 0)] * 5
    assert set(stock_skus(admin, store)) == skus
    wait_until(lambda: local_files(fault_stack) == [], timeout=30, what="the import's upload gone")


def _on_postgresql(database_kind) -> None:
    if database_kind != "postgresql":
        pytest.skip("a database connection to cut exists only on PostgreSQL; SQLite is a file")


def test_a_job_whose_database_connection_drops_mid_run_retries_with_backoff_then_completes(
    admin, fault_stack, database_kind, worker,
):
    # fault: the running job's database connection is terminated once (a failover), the server stays up
    # expected: the job spends one retry (with its backoff countdown), runs again and completes
    _on_postgresql(database_kind)
    job_id = submit_diagnostic(admin, "petshop", steps=12, step_seconds=0.25)
    wait_until_running(admin, worker, "petshop", job_id)

    assert "UPDATE jobs SET progress" in cut_the_jobs_next_statement(fault_stack.env["DATABASE_URL"], job_id)

    job = wait_for_job(admin, "petshop", job_id, timeout=60)
    assert job["status"] == "completed", job
    assert job["attempts"] == 2 and job["error"] is None and job["result"]["steps"] == 12
    assert re.search(rf"\[{job_id}\] retry: Retry in \d+(\.\d+)?s: OperationalError", worker.log())


def test_a_job_whose_database_connection_drops_on_every_attempt_ends_failed_with_the_reason(
    admin, fault_stack, database_kind, worker,
):
    # fault: the job's connection is terminated in each of its 1 + MAX_RETRIES attempts
    # expected: the retries are spent (the server answers, so this is no outage to wait out) and the
    # job ends `failed` with a Spanish reason and `job_dependency_unavailable`, without a result
    _on_postgresql(database_kind)
    job_id = submit_diagnostic(admin, "petshop", steps=40, step_seconds=0.25)
    wait_until_running(admin, worker, "petshop", job_id)

    # each attempt's next statement on the job is cut (a progress write, or the start of the attempt);
    # cutting a `retrying` mark spends no attempt. After the last cut nothing is held: the failure is recorded
    attempts_cut = 0
    while attempts_cut < 1 + MAX_RETRIES:
        query = cut_the_jobs_next_statement(fault_stack.env["DATABASE_URL"], job_id)
        attempts_cut += not query.startswith("UPDATE jobs SET status")

    job = wait_for_job(admin, "petshop", job_id, timeout=60)
    assert job["status"] == "failed", job
    assert job["error_code"] == "job_dependency_unavailable"
    assert "base de datos" in job["error"] and "Vuelve a intentarlo" in job["error"]
    assert job["result"] is None and job["progress"] < 100
    assert worker.log().count(f"[{job_id}] retry:") == MAX_RETRIES
