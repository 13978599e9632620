"""Workers that die or are stopped mid-job: a child SIGKILLed, the whole worker machine gone, a poison
job, SIGTERM once and twice. Each story checks what the jobs table says afterwards.
"""

from __future__ import annotations

import pytest
import redis

from tests.faults.conftest import MAX_RETRIES, SOFT_SHUTDOWN_SECONDS, VISIBILITY_TIMEOUT, kill_pool_children, wait_until_running
from tests.jobs_helpers import submit_diagnostic, wait_for_job
from tests.servers import wait_until


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
