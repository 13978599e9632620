"""A worker's own limits and stops: the soft and the hard time limit, a child recycled for its memory,
SIGQUIT (cold shutdown), and a job that runs longer than the visibility timeout. Each story reads the
job rows afterwards: one final status, the attempts it took, nothing run twice.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time

import redis

from tests.faults.conftest import SOFT_SHUTDOWN_SECONDS, VISIBILITY_TIMEOUT, wait_until_running
from tests.jobs_helpers import submit_diagnostic, wait_for_job
from tests.servers import wait_until


def test_a_job_past_its_soft_time_limit_fails_with_the_reason_and_is_not_run_again(admin, fault_stack):
    limited = fault_stack.start_worker(extra_env={"TASK_SOFT_TIME_LIMIT": "2", "TASK_TIME_LIMIT": "10"})
    try:
        job = wait_for_job(admin, "petshop", submit_diagnostic(admin, "petshop", steps=20, step_seconds=0.5), timeout=60)
        after = wait_for_job(admin, "petshop", submit_diagnostic(admin, "petshop", steps=1, step_seconds=0), timeout=60)
    finally:
        limited.stop()

    assert job["status"] == "failed" and job["error_code"] == "job_time_limit", job
    assert "tiempo límite" in job["error"]
    assert job["attempts"] == 1 and job["progress"] < 100
    assert after["status"] == "completed"  # the same child goes on to the next job


def test_a_job_past_its_hard_time_limit_has_its_child_killed_and_fails_once(admin, fault_stack, redis_server):
    # no soft limit: the job behaves as one that ignores it (stuck in C code, or catching the exception)
    limited = fault_stack.start_worker(extra_env={"TASK_SOFT_TIME_LIMIT": "0", "TASK_TIME_LIMIT": "2"})
    try:
        job_id = submit_diagnostic(admin, "petshop", steps=20, step_seconds=0.5)
        job = wait_for_job(admin, "petshop", job_id, timeout=60)
        after = wait_for_job(admin, "petshop", submit_diagnostic(admin, "petshop", steps=1, step_seconds=0), timeout=60)
        log = limited.log()
    finally:
        limited.stop()

    assert job["status"] == "failed" and job["error_code"] == "job_time_limit", job
    assert job["attempts"] == 1  # acked as failed: not redelivered, not retried as a lost worker
    assert re.search(rf"Hard time limit \(2\.?0?s\) exceeded for \S+\[{job_id}\]", log), log[-2000:]
    assert after["status"] == "completed"  # a fresh child took the next job
    # nothing of the job is queued again; a job's end publishes its notification task, which the
    # stopped worker may have left in the queue: that one is not the job
    queued = [json.loads(message)["headers"] for message in redis.Redis(port=redis_server.port).lrange("petshop", 0, -1)]
    assert [(h["task"], h["id"]) for h in queued if h["id"] == job_id or not h["task"].endswith("notify_job_finished")] == []


def test_children_recycled_for_their_memory_between_jobs_lose_nothing(admin, fault_stack):
    # 64 MB is below what a child holds once the app is loaded: every child is replaced after each job
    recycling = fault_stack.start_worker(concurrency=1, extra_env={"WORKER_MAX_MEMORY_PER_CHILD_MB": "64"})
    try:
        job_ids = [submit_diagnostic(admin, "petshop", steps=2, step_seconds=0.2) for _ in range(4)]  # queued together
        finished = [wait_for_job(admin, "petshop", job_id, timeout=120) for job_id in job_ids]
        log = recycling.log()
    finally:
        recycling.stop()

    assert [job["status"] for job in finished] == ["completed"] * 4
    assert [job["attempts"] for job in finished] == [1] * 4
    # one child would have run all four: four pids mean each child was replaced after its job
    assert len({job["result"]["worker"] for job in finished}) == 4, log[-2000:]


def test_sigquit_hands_the_running_job_back_and_another_worker_completes_it_once(admin, fault_stack, redis_server):
    stopping = fault_stack.start_worker()
    job_id = submit_diagnostic(admin, "petshop", steps=40, step_seconds=0.25)
    try:
        wait_until_running(admin, stopping, "petshop", job_id)
        os.kill(stopping.pid, signal.SIGQUIT)  # Celery's cold shutdown, whatever REMAP_SIGTERM says
        wait_until(lambda: not stopping.alive(), timeout=SOFT_SHUTDOWN_SECONDS + 30, what="the worker to exit")
    finally:
        stopping.kill()

    assert redis.Redis(port=redis_server.port).llen("petshop") == 1  # back at once, not after the visibility timeout
    successor = fault_stack.start_worker()
    try:
        job = wait_for_job(admin, "petshop", job_id, timeout=60)
    finally:
        successor.stop()
    assert job["status"] == "completed" and job["attempts"] == 2, job
    assert job["result"]["worker"].split(":")[1] != str(stopping.pid)


def test_a_job_that_would_outlast_the_visibility_timeout_is_stopped_by_its_time_limit_and_runs_once(admin, fault_stack):
    # production keeps the hard limit below the visibility timeout (config.visibility_timeout): a job
    # is stopped before Redis would hand its message to another worker
    limits = {"TASK_SOFT_TIME_LIMIT": str(VISIBILITY_TIMEOUT // 2), "TASK_TIME_LIMIT": str(VISIBILITY_TIMEOUT - 3)}
    first, second = fault_stack.start_worker(extra_env=limits), fault_stack.start_worker(extra_env=limits)
    try:
        job_id = submit_diagnostic(admin, "petshop", steps=VISIBILITY_TIMEOUT * 4, step_seconds=0.5)
        job = wait_for_job(admin, "petshop", job_id, timeout=120)
        time.sleep(VISIBILITY_TIMEOUT + 10)  # past the visibility timeout and a few restore scans: nobody runs it again
        logs = first.log() + second.log()
    finally:
        first.stop()
        second.stop()

    assert job["status"] == "failed" and job["error_code"] == "job_time_limit", job
    assert admin.get("petshop", f"/jobs/{job_id}").json()["attempts"] == 1
    assert logs.count(f"job {job_id} (petshop.app.tasks.run_diagnostic): attempt") == 1


def test_a_job_longer_than_the_visibility_timeout_runs_once(admin, fault_stack):
    # without common/unacked_lease.py the idle worker's restore scan gives the message back and it runs twice
    first, second = fault_stack.start_worker(), fault_stack.start_worker()  # an idle one to take any redelivery
    try:
        seconds = VISIBILITY_TIMEOUT * 2
        job_id = submit_diagnostic(admin, "petshop", steps=seconds * 2, step_seconds=0.5)
        job = wait_for_job(admin, "petshop", job_id, timeout=seconds + 90)
        logs = first.log() + second.log()
    finally:
        first.stop()
        second.stop()

    assert job["status"] == "completed", job
    assert job["attempts"] == 1, job
    assert logs.count(f"job {job_id} (petshop.app.tasks.run_diagnostic): attempt") == 1
