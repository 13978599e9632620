"""The seed's integration tests: service connectivity, task endpoints, a cross-service workflow,
error handling. Real Redis, real worker processes, real HTTP.

    DATABASE_URL="sqlite:///./test.db" pytest tests/test_integration.py -v
"""

from __future__ import annotations

import uuid

import psutil
import pytest

from tests.jobs_helpers import submit_diagnostic, wait_for_job
from tests.servers import wait_until

SERVICES = ("auth", "veterinaria", "petshop")
QUEUE_SERVICES = ("veterinaria", "petshop")


# --- service connectivity ----------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_answers_health_without_a_token(anonymous, service):
    response = anonymous.get(service, "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["service"] == service
    assert body["components"]["database"] == "ok"
    if service in QUEUE_SERVICES:
        assert body["components"]["queue"] == "ok"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_publishes_openapi_docs(anonymous, service):
    assert anonymous.get(service, "/docs").status_code == 200
    spec = anonymous.get(service, "/openapi.json").json()
    assert spec["info"]["title"].endswith(service)


# --- task endpoints ----------------------------------------------------------------------


@pytest.mark.parametrize("service", QUEUE_SERVICES)
def test_a_job_runs_on_a_worker_and_its_result_is_kept(admin, service):
    job_id = submit_diagnostic(admin, service, steps=4, step_seconds=0.3)

    job = wait_for_job(admin, service, job_id)

    assert job["status"] == "completed", job
    assert job["progress"] == 100
    assert job["service"] == service and job["kind"] == "diagnostic"
    assert job["result"]["storage"] == "ok"
    assert job["result"]["steps"] == 4
    assert job["attempts"] == 1
    assert job["started_at"] and job["finished_at"] >= job["started_at"]


def test_progress_is_visible_while_a_job_runs(admin):
    job_id = submit_diagnostic(admin, "petshop", steps=8, step_seconds=0.5)

    def partway():
        job = admin.get("petshop", f"/jobs/{job_id}").json()
        assert job["status"] in ("queued", "processing"), f"finished before any progress showed: {job}"
        return job if job["status"] == "processing" and 0 < job["progress"] < 100 else None

    partial = wait_until(partway, timeout=60, what="progress between 0 and 100 while processing")
    done = wait_for_job(admin, "petshop", job_id)

    assert partial["progress"] < done["progress"] == 100
    assert done["status"] == "completed"


def test_job_lists_show_the_callers_jobs_newest_first(admin):
    first = submit_diagnostic(admin, "veterinaria", steps=1, step_seconds=0)
    second = submit_diagnostic(admin, "veterinaria", steps=1, step_seconds=0)
    wait_for_job(admin, "veterinaria", second)

    listed = admin.get("veterinaria", "/jobs/", params={"kind": "diagnostic", "limit": 50}).json()

    ids = [job["id"] for job in listed]
    assert ids.index(second) < ids.index(first)
    assert all(job["service"] == "veterinaria" for job in listed)
    # a list row has no result body (GET /jobs/{id} has it): a page stays small whatever the results
    row = listed[ids.index(second)]
    assert "result" not in row and row["has_result"] is True
    assert admin.get("veterinaria", f"/jobs/{second}").json()["result"] is not None
    assert admin.get("veterinaria", "/jobs/", params={"limit": 201}).status_code == 422


@pytest.mark.parametrize("job_id", [str(uuid.uuid4()), "not-a-uuid", "1"])
def test_an_unknown_job_is_404_not_pending(admin, job_id):
    response = admin.get("petshop", f"/jobs/{job_id}")
    assert response.status_code == 404
    assert response.json()["code"] == "job_not_found" and "No existe ningún trabajo" in response.json()["detail"]


def test_a_job_of_one_service_is_not_found_on_the_other(admin):
    job_id = submit_diagnostic(admin, "petshop", steps=1, step_seconds=0)
    assert admin.get("veterinaria", f"/jobs/{job_id}").status_code == 404


# --- a cross-service workflow ------------------------------------------------------------


def test_a_user_created_at_auth_works_at_both_services_and_sees_only_own_jobs(admin, make_user):
    vet = make_user("veterinario")
    clerk = make_user("empleado")

    # one token from auth is accepted by the other services, which check it themselves
    me = vet.get("auth", "/users/me").json()
    assert me["role"] == "veterinario" and me["username"] == vet.user["username"]
    admin_job = submit_diagnostic(admin, "petshop", steps=1, step_seconds=0)
    wait_for_job(admin, "petshop", admin_job)

    assert vet.get("veterinaria", "/jobs/").status_code == 200
    assert clerk.get("petshop", "/jobs/").json() == []
    # someone else's job looks absent, not forbidden: its id reveals nothing
    assert clerk.get("petshop", f"/jobs/{admin_job}").status_code == 404
    # the diagnostic is an admin tool
    assert clerk.post("petshop", "/jobs/diagnostic", json={}).status_code == 403


def test_a_deactivated_user_cannot_log_in_again(admin, make_user, stack):
    import httpx

    clerk = make_user("empleado")
    response = admin.patch("auth", f"/users/{clerk.user['id']}", json={"is_active": False})
    assert response.status_code == 200 and response.json()["is_active"] is False

    login = httpx.post(f"{stack.url('auth')}/token", data={"username": clerk.user["username"], "password": "x" * 12})
    assert login.status_code == 401


# --- error handling ----------------------------------------------------------------------


def test_bad_input_fails_the_job_at_once_with_a_readable_message(admin):
    job_id = submit_diagnostic(admin, "petshop", steps=1, fail_with="bad_input")

    job = wait_for_job(admin, "petshop", job_id)

    assert job["status"] == "failed"
    assert job["attempts"] == 1
    assert "este es el mensaje que leería la persona" in job["error"]


def test_a_transient_error_is_retried_with_backoff_then_completes(admin):
    job_id = submit_diagnostic(admin, "veterinaria", steps=1, step_seconds=0, fail_with="transient")

    job = wait_for_job(admin, "veterinaria", job_id, timeout=60)

    assert job["status"] == "completed", job
    assert job["attempts"] == 2
    assert job["result"]["attempt"] == 2


@pytest.mark.parametrize("service", SERVICES)
def test_without_a_token_every_protected_route_is_401(anonymous, service):
    path = "/users/me" if service == "auth" else "/jobs/"
    response = anonymous.get(service, path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("service", SERVICES)
def test_a_forged_token_is_401(stack, service):
    import jwt

    from tests.conftest import Client

    forged = jwt.encode({"sub": "1", "username": "admin", "role": "admin", "iss": "timon-auth", "exp": 4102444800},
                        "not-the-secret-but-long-enough-for-hs256", algorithm="HS256")
    path = "/users/me" if service == "auth" else "/jobs/"
    assert Client(stack, forged).get(service, path).status_code == 401


def test_a_malformed_request_names_the_field(admin):
    response = admin.post("petshop", "/jobs/diagnostic", json={"steps": "many", "colour": "red"})

    assert response.status_code == 422
    fields = {tuple(error["loc"]) for error in response.json()["errors"]}
    assert ("body", "steps") in fields and ("body", "colour") in fields


def test_malformed_json_is_422(admin):
    response = admin.post("petshop", "/jobs/diagnostic", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422


@pytest.mark.parametrize("service", QUEUE_SERVICES)
def test_the_docs_authorize_button_logs_in_at_the_auth_service(anonymous, service):
    spec = anonymous.get(service, "/openapi.json").json()
    flows = [s["flows"]["password"] for s in spec["components"]["securitySchemes"].values() if "flows" in s]
    assert flows and all(flow["tokenUrl"].endswith(":8001/token") for flow in flows)


def test_the_workers_and_their_children_run_below_the_apis_cpu_priority(stack, admin):
    wait_for_job(admin, "petshop", submit_diagnostic(admin, "petshop", steps=1, step_seconds=0))  # children forked
    api = psutil.Process(stack.services["petshop"].popen.pid).nice()
    for worker in stack.workers:
        main = psutil.Process(worker.popen.pid)
        family = [main, *main.children(recursive=True)]
        assert len(family) >= 2
        assert {process.nice() for process in family} == {min(api + 10, 19)}  # WORKER_NICE's default
