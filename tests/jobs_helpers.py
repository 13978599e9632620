"""Following a job through the status endpoint, as a client would."""

from __future__ import annotations

from tests.servers import wait_until


def wait_for_job(client, service: str, job_id: str, *, statuses=("completed", "failed"), timeout: float = 60) -> dict:
    """Poll GET /jobs/{id} until the job reaches one of `statuses`; returns the job."""
    return wait_for_status(client, service, f"/jobs/{job_id}", statuses=statuses, timeout=timeout)


def wait_for_status(client, service: str, path: str, *, statuses=("completed", "failed"), timeout: float = 60) -> dict:
    """Poll a job status endpoint (ours or the seed's) until `status` is one of `statuses`."""
    seen: list[str] = []

    def reached():
        response = client.get(service, path)
        assert response.status_code == 200, response.text
        job = response.json()
        if not seen or seen[-1] != job["status"]:
            seen.append(job["status"])
        return job if job["status"] in statuses else None

    try:
        return wait_until(reached, timeout=timeout, interval=0.1, what=f"{path} to reach {statuses}")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; statuses seen: {seen}") from None


def submit_diagnostic(client, service: str, **spec) -> str:
    response = client.post(service, "/jobs/diagnostic", json=spec)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert body["status_url"] == f"/jobs/{body['task_id']}"
    return body["task_id"]
