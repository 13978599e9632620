"""Metrics and logs, read the way an operator reads them: /metrics scraped from running processes, log files
parsed as JSON lines.

One stack for the module (JSON logs, a worker with two children and its metrics exporter).
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from common.telemetry.http import HttpMetrics
from tests.conftest import Client, login
from tests.servers import Stack, free_port, wait_until

REQUEST_ID = "abc123"


@pytest.fixture(scope="module")
def telemetry_stack(work_dir, new_database_url, redis_server):
    base = work_dir / "telemetry"
    running = Stack(
        base_dir=base, database_url=new_database_url("timon_telemetry"),
        redis_url=f"redis://127.0.0.1:{redis_server.port}/14",  # its own queues: no other stack's worker takes its jobs
        console=True,
        extra_env={"LOG_FORMAT": "json", "WORKER_METRICS_PORT": str(free_port())},
    )
    try:
        running.start(workers=0)
        # the worker's children write their metrics there (the services keep theirs in memory)
        running.env["PROMETHEUS_MULTIPROC_DIR"] = str(base / "worker-metrics")
        running.start_worker(concurrency=2)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def admin_client(telemetry_stack) -> Client:
    return Client(telemetry_stack, login(telemetry_stack, "admin", telemetry_stack.admin_password))


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a /metrics page: (name, labels) → value."""
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def sample(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def worker_metrics_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.env['WORKER_METRICS_PORT']}/metrics"


def run_jobs(client: Client, service: str, count: int, **spec) -> list[dict]:
    ids = []
    for _ in range(count):
        response = client.post(service, "/jobs/diagnostic", json=spec, headers={"X-Request-ID": REQUEST_ID})
        assert response.status_code == 202, response.text
        assert response.headers["x-request-id"] == REQUEST_ID
        ids.append(response.json()["task_id"])

    def all_done():
        found = [client.get(service, f"/jobs/{job_id}").json() for job_id in ids]
        return found if all(job["status"] == "completed" for job in found) else None

    return wait_until(all_done, timeout=60, what=f"{count} diagnostic jobs completed")


def json_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


# --- the services ---------------------------------------------------------------------------------


def test_every_service_counts_its_requests_by_route_template_and_status(telemetry_stack, admin_client):
    for service in ("auth", "veterinaria", "petshop", "console"):
        before = scrape(f"{telemetry_stack.url(service)}/metrics")
        for _ in range(3):
            assert httpx.get(f"{telemetry_stack.url(service)}/health", timeout=10).status_code == 200
        after = scrape(f"{telemetry_stack.url(service)}/metrics")
        labels = {"method": "GET", "route": "/health", "status": "200"}
        assert sample(after, "http_requests_total", **labels) == sample(before, "http_requests_total", **labels) + 3, service
        assert sample(after, "http_request_duration_seconds_count", **labels) >= 3
        assert ("http_requests_in_progress", frozenset({"method": "GET"}.items())) in after

    # ids do not make series of their own: two pets, one route; a refusal before routing still names it
    for pet_id in (424242, 434343):
        assert admin_client.get("veterinaria", f"/mascotas/{pet_id}").status_code == 404
    assert httpx.get(f"{telemetry_stack.url('veterinaria')}/mascotas/454545", timeout=10).status_code == 401
    assert httpx.get(f"{telemetry_stack.url('veterinaria')}/no-such-page/99", timeout=10).status_code == 401
    samples = scrape(f"{telemetry_stack.url('veterinaria')}/metrics")
    assert sample(samples, "http_requests_total", method="GET", route="/mascotas/{mascota_id}", status="404") == 2
    assert sample(samples, "http_requests_total", method="GET", route="/mascotas/{mascota_id}", status="401") == 1
    assert sample(samples, "http_requests_total", method="GET", route="<unmatched>", status="401") >= 1
    assert not any(re.search(r"4[2-5]4[2-5]4[2-5]|no-such-page", str(labels)) for _name, labels in samples)


def test_metrics_need_the_token_from_anywhere_but_this_machine():
    app = FastAPI()
    client = TestClient(HttpMetrics(app, token="s3cret-metrics-token"))  # the test client's address is not loopback
    refused = client.get("/metrics")
    assert refused.status_code == 403
    assert refused.json()["code"] == "metrics_forbidden"
    assert "METRICS_TOKEN" in refused.json()["detail"]
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    allowed = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert allowed.status_code == 200
    assert "http_requests_total" in allowed.text
    assert TestClient(HttpMetrics(app, token=None)).get("/metrics").status_code == 403


# --- the worker -----------------------------------------------------------------------------------


def test_the_worker_exporter_adds_up_the_jobs_of_both_children(telemetry_stack, admin_client):
    # 3 s each, long enough to overlap however slowly the second one is submitted, so each runs in its own child
    finished = run_jobs(admin_client, "veterinaria", 2, steps=6, step_seconds=0.5)
    assert len({job["result"]["worker"] for job in finished}) == 2, finished

    def finished_twice():
        samples = scrape(worker_metrics_url(telemetry_stack))
        labels = {"service": "veterinaria", "kind": "diagnostic", "status": "completed"}
        return samples if sample(samples, "timon_jobs_finished_total", **labels) == 2 else None

    samples = wait_until(finished_twice, timeout=30, what="jobs_finished_total = 2 on the worker exporter")
    labels = {"service": "veterinaria", "kind": "diagnostic", "status": "completed"}
    assert sample(samples, "timon_job_duration_seconds_count", **labels) == 2
    assert sample(samples, "timon_job_duration_seconds_sum", **labels) >= 2 * 6 * 0.5
    assert sample(samples, "timon_job_queue_wait_seconds_count", service="veterinaria", kind="diagnostic") == 2
    for queue in ("veterinaria", "petshop"):
        for priority in ("0", "9"):
            assert sample(samples, "timon_queue_depth", queue=queue, priority=priority) == 0.0
            assert ("timon_queue_depth", frozenset({"queue": queue, "priority": priority}.items())) in samples


def test_a_transient_failure_is_counted_as_a_retry_of_its_kind(telemetry_stack, admin_client):
    run_jobs(admin_client, "petshop", 1, steps=1, step_seconds=0, fail_with="transient")
    samples = scrape(worker_metrics_url(telemetry_stack))
    assert sample(samples, "timon_job_retries_total", service="petshop", kind="diagnostic") == 1


# --- the logs -------------------------------------------------------------------------------------


def test_a_request_id_follows_the_job_into_the_worker_log(telemetry_stack, admin_client):
    (job,) = run_jobs(admin_client, "petshop", 1, steps=2, step_seconds=0)
    job_id = job["id"]

    api_lines = [line for line in json_lines(telemetry_stack.log_dir / "petshop.log") if line.get("job_id") == job_id]
    assert api_lines, "the API logged nothing about the job"
    assert all(line["request_id"] == REQUEST_ID and line["service"] == "petshop" for line in api_lines), api_lines

    def job_lines():
        lines = [line for line in json_lines(telemetry_stack.workers[0].log_path) if line.get("job_id") == job_id]
        return lines if any(line["logger"] == "celery.app.trace" for line in lines) else None

    lines = wait_until(job_lines, timeout=30, what="the worker's lines about the job")
    for line in lines:
        assert line["request_id"] == REQUEST_ID, line
        assert line["service"] == "petshop" and line["kind"] == "diagnostic" and line["attempt"] == 1, line
    # Celery's own line, logged by the library, carries the job's context too
    assert any(line["logger"] == "celery.app.trace" and "succeeded" in line["event"] for line in lines), lines
    # and every line of the worker is JSON, Celery's start-up banner lines aside
    assert len(json_lines(telemetry_stack.workers[0].log_path)) > len(lines)


def test_the_grafana_dashboard_asks_only_for_metrics_we_export():
    from pathlib import Path

    from prometheus_client import REGISTRY

    from common.telemetry import http, job_metrics  # noqa: F401  (their metrics register on import)

    root = Path(__file__).resolve().parent.parent
    dashboard = json.loads((root / "deploy" / "grafana" / "timon-dashboard.json").read_text())
    # a labelled metric with no series yet still has its family; a counter's family drops `_total`
    exported = {family.name + suffix for family in REGISTRY.collect() for suffix in ("", "_total", "_bucket")}
    asked = {name for panel in dashboard["panels"] for target in panel["targets"]
             for name in re.findall(r"\b(?:timon|http)_[a-z_]+", target["expr"])}
    assert asked and asked <= exported | {"timon_queue_depth"}, asked - exported


def test_an_import_adds_its_rows_and_seconds_to_the_worker_metrics(telemetry_stack, admin_client):
    store = admin_client.post("petshop", "/tiendas/", json={"name": "Tienda métricas"}).json()
    rows = "".join(f"TEL-{n},Pienso {n},{n},1.50\n" for n in range(1, 6))
    response = admin_client.post("petshop", "/upload-inventario/", data={"store_id": str(store["id"])},
                                 files={"file": ("inventario.csv", ("SKU,Nombre,Stock,Precio\n" + rows).encode())})
    assert response.status_code == 202, response.text
    job_id = response.json()["task_id"]
    wait_until(lambda: admin_client.get("petshop", f"/jobs/{job_id}").json()["status"] == "completed", timeout=60,
               what="the import completed")

    def import_counted():
        samples = scrape(worker_metrics_url(telemetry_stack))
        labels = {"service": "petshop", "kind": "inventory_import", "status": "completed"}
        return samples if sample(samples, "timon_jobs_finished_total", **labels) == 1 else None

    samples = wait_until(import_counted, timeout=30, what="the import counted on the worker exporter")
    assert sample(samples, "timon_import_rows_total", dry_run="false") == 5
    assert sample(samples, "timon_import_seconds_total", dry_run="false") > 0


@pytest.mark.parametrize("service", ["petshop", "veterinaria", "auth"])
def test_an_api_starts_serving_with_its_startup_objects_out_of_the_collectors_walks(service, tmp_path):
    """A full collection must not walk the ~150,000 objects an API built at start (100 ms: a stall of
    every request in flight); nor may FastAPI's OpenTelemetry bridge run on each request."""
    import gc
    import importlib

    from common.config import Settings

    create_app = importlib.import_module(f"{service}.app.main").create_app
    gc.unfreeze()
    try:
        app = create_app(Settings(_env_file=None, var_dir=tmp_path, jwt_secret="s" * 40,
                                  database_url=f"sqlite:///{tmp_path / 'db.sqlite'}"))
        assert gc.get_freeze_count() == 0
        with TestClient(app) as client:
            assert gc.get_freeze_count() > 50_000  # the modules, routes and models, frozen as it began serving
            assert client.get("/health").status_code in (200, 503)
        assert not app._native_telemetry.enabled()
    finally:
        gc.unfreeze()
