"""The fault stories' stack: one per module, with a Redis of its own, a short visibility timeout and
fast retries, and no worker until a story starts the one it will break.
"""

from __future__ import annotations

import re

import psutil
import pytest

from tests.conftest import Client, login
from tests.servers import Process, RedisServer, Stack, wait_until

VISIBILITY_TIMEOUT = 15
MAX_RETRIES = 2
SOFT_SHUTDOWN_SECONDS = 2


def _module_name(request) -> str:
    return request.module.__name__.rsplit(".", 1)[-1]


@pytest.fixture(scope="module")
def redis_server(request, work_dir):
    server = RedisServer(work_dir / f"{_module_name(request)}-redis", work_dir / "logs").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fault_stack(request, work_dir, new_database_url, redis_server):
    name = _module_name(request)
    running = Stack(
        base_dir=work_dir / name,
        database_url=new_database_url(f"timon_{name}"),
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


def wait_until_running(admin, worker: Process, service: str, job_id: str, attempt: int = 1, *,
                       task: str = "run_diagnostic", timeout: float = 60) -> None:
    """Until `worker` is inside the task body of this attempt (it has logged the attempt)."""
    wait_until(lambda: f"job {job_id} ({service}.app.tasks.{task}): attempt {attempt}" in worker.log(),
               timeout=timeout, what=f"attempt {attempt} of {job_id} running")



def idle(worker: Process) -> bool:
    """Every task the worker received has ended (succeeded, raised or was retried), by its log."""
    log = worker.log()
    received = set(re.findall(r"Task \S+\[([0-9a-f-]{36})\] received", log))
    ended = set(re.findall(r"Task \S+\[([0-9a-f-]{36})\] (?:succeeded|raised|retry)", log))
    return received <= ended
