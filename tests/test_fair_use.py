"""Fair use of the workers: a per-user quota of unfinished jobs, and one user's batch never holding
back another user's work. On a stack of its own (its own Redis and database) with a small quota.
"""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from common import jobs
from common.db import session_scope
from common.errors import TooManyRequests
from common.security import Principal, Role
from tests.conftest import Client, login
from tests.jobs_helpers import submit_diagnostic, wait_for_job
from tests.servers import RedisServer, Stack

QUOTA = 5

# --- the rule, on the database under test ---------------------------------------------------------

CARLA = Principal(id=20, username="carla", role=Role.STAFF)
DIEGO = Principal(id=21, username="diego", role=Role.STAFF)


THREE = jobs.JobQuota(max_active=3, retry_after_seconds=7)


def submit(sessions, owner, quota=THREE, service="petshop"):
    priorities: list[int] = []
    with session_scope(sessions) as session:
        jobs.submit(
            session=session, service=service, kind="diagnostic", task_name=f"{service}.app.tasks.run_diagnostic",
            owner=owner, params={}, publish=lambda job_id, priority: priorities.append(priority), timeout=2, quota=quota,
        )
    return priorities[0]


def test_the_quota_counts_a_users_unfinished_jobs_on_one_service(sessions):
    assert [submit(sessions, CARLA) for _ in range(3)] == [0, 1, 2]  # each later one at a lower priority

    with pytest.raises(TooManyRequests) as refused:
        submit(sessions, CARLA)
    assert refused.value.code == "job_quota_exceeded"
    assert refused.value.headers == {"Retry-After": "7"}
    assert "máximo" in refused.value.message

    assert submit(sessions, DIEGO) == 0  # someone else's first job goes to the front
    assert submit(sessions, CARLA, service="veterinaria") == 0  # the other service counts apart

    with session_scope(sessions) as session:  # one finishes: room for one more
        oldest = jobs.list_visible(session=session, user=CARLA, service="petshop")[-1]
        jobs.complete(session=session, job_id=oldest.id, result={})
    assert submit(sessions, CARLA) == 2


def test_simultaneous_submissions_by_one_user_never_pass_the_quota(sessions):
    # twelve threads released at once, each in its own transaction: without the per-user lock,
    # PostgreSQL lets most of them count the same three jobs and insert (10 of 12 got in)
    erin = Principal(id=22, username="erin", role=Role.STAFF)
    start = threading.Barrier(12)

    def attempt(_) -> str:
        start.wait()
        try:
            submit(sessions, erin)
            return "accepted"
        except TooManyRequests:
            return "refused"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(attempt, range(12)))
    assert outcomes.count("accepted") == 3, outcomes


# --- the system, with real services and workers ---------------------------------------------------


@pytest.fixture(scope="module")
def redis_server(work_dir):
    server = RedisServer(work_dir / "fair-redis", work_dir / "logs").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fair_stack(work_dir, new_database_url, redis_server):
    running = Stack(
        base_dir=work_dir / "fair",
        database_url=new_database_url("timon_fair"),
        redis_url=redis_server.url,
        extra_env={"JOB_MAX_ACTIVE_PER_USER": str(QUOTA), "JOB_QUOTA_RETRY_AFTER_SECONDS": "12"},
    )
    try:
        running.start(workers=0)  # the stories start their workers when the queue is set up
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def new_admin(fair_stack):
    root = Client(fair_stack, login(fair_stack, "admin", fair_stack.admin_password))

    def make() -> Client:  # diagnostics are admin-only; admins are held to the quota like anyone
        username, password = f"admin-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
        response = root.post("auth", "/users/", json={"username": username, "password": password, "role": "admin"})
        assert response.status_code == 201, response.text
        return Client(fair_stack, login(fair_stack, username, password))

    return make


def test_parallel_submissions_by_one_user_never_pass_the_quota(new_admin):
    flooder = new_admin()

    def post(_):
        return flooder.post("petshop", "/jobs/diagnostic", json={"steps": 1, "step_seconds": 0})

    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(post, range(64)))

    accepted = [a for a in answers if a.status_code == 202]
    refused = [a for a in answers if a.status_code == 429]
    assert len(accepted) == QUOTA and len(refused) == 64 - QUOTA, [a.text for a in answers]
    assert {a.json()["code"] for a in refused} == {"job_quota_exceeded"}
    assert {a.headers["Retry-After"] for a in refused} == {"12"}
    listed = flooder.get("petshop", "/jobs/", params={"status": "queued"}).json()
    assert len(listed) == QUOTA
    # the other service keeps its own count
    assert flooder.post("veterinaria", "/jobs/diagnostic", json={"steps": 1, "step_seconds": 0}).status_code == 202


@pytest.mark.parametrize("rows", [20, 40_000], ids=["small (checked once, after storing)", "over 1 MiB (checked first)"])
def test_an_upload_past_the_quota_is_refused_and_leaves_no_file(fair_stack, new_admin, rows):
    # no worker runs yet: the diagnostics stay queued and hold the whole quota
    clerk = new_admin()
    for _ in range(QUOTA):
        submit_diagnostic(clerk, "petshop", steps=1, step_seconds=0)
    store = clerk.post("petshop", "/tiendas/", json={"name": f"Tienda {secrets.token_hex(3)}"}).json()
    body = "sku;nombre;stock;precio\n" + "".join(f"CUPO-{n:06d};Pienso de prueba {n};{n % 50};{1 + n % 90},95\n" for n in range(rows))
    assert (len(body) >= 1 << 20) == (rows > 1000)
    uploads = fair_stack.base_dir / "var" / "files" / "imports"

    def stored() -> list:
        return sorted(path for path in uploads.rglob("*") if path.is_file()) if uploads.exists() else []

    before = stored()

    refused = clerk.post("petshop", "/upload-inventario/", data={"store_id": str(store["id"])},
                         files={"file": ("inventario.csv", body.encode(), "text/csv")})

    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "job_quota_exceeded"
    assert stored() == before  # nothing stored, nothing left
    assert not [job for job in clerk.get("petshop", "/jobs/").json() if job["kind"] == "inventory_import"]


def test_one_users_flood_does_not_hold_back_another_users_job(fair_stack, new_admin):
    flooder, neighbour = new_admin(), new_admin()
    # the flood is queued while no worker is free, as when the workers are busy with long jobs
    flood = [submit_diagnostic(flooder, "petshop", steps=1, step_seconds=0.1) for _ in range(QUOTA)]
    own = submit_diagnostic(neighbour, "petshop", steps=1, step_seconds=0.1)

    fair_stack.start_worker(concurrency=1)
    finished = wait_for_job(neighbour, "petshop", own)
    for job_id in flood:
        wait_for_job(flooder, "petshop", job_id)

    started = {job_id: flooder.get("petshop", f"/jobs/{job_id}").json()["started_at"] for job_id in flood}
    before_neighbour = [job_id for job_id in flood if started[job_id] < finished["started_at"]]
    # FIFO would run the whole flood first; with priorities only the flood's first job goes ahead
    assert len(before_neighbour) <= 1, (before_neighbour, started, finished["started_at"])
    assert sorted(flood, key=started.get) == flood  # and the flood itself keeps its order

