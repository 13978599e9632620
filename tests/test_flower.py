"""Flower, started as `make up` and docker compose start it, asks for its password on every page."""

from __future__ import annotations

import httpx
import pytest

from tests.servers import Process, Stack, free_port, wait_until


@pytest.fixture(scope="module")
def flower(work_dir, redis_url):
    stack = Stack(base_dir=work_dir / "flower", database_url="sqlite://", redis_url=redis_url,
                  extra_env={"FLOWER_USER": "admin", "FLOWER_PASSWORD": "flower-secret-password"})
    port = free_port()
    process = Process("flower", [*Stack.celery_command(), "flower", f"--port={port}", "--address=127.0.0.1"],
                      env=stack.env, log_dir=stack.log_dir).start()
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: httpx.get(f"{url}/healthcheck", timeout=2).status_code in (200, 401), timeout=60, what="flower")
    yield url
    process.stop()


@pytest.mark.parametrize("path", ["/", "/metrics", "/healthcheck", "/api/workers", "/tasks"])
def test_every_flower_page_needs_the_password(flower, path):
    response = httpx.get(f"{flower}{path}", timeout=10)

    assert response.status_code == 401
    if not path.startswith("/api/"):  # the API handlers answer a bare 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("path", ["/metrics", "/healthcheck"])
def test_the_monitoring_pages_answer_with_the_password(flower, path):
    response = httpx.get(f"{flower}{path}", auth=("admin", "flower-secret-password"), timeout=10)

    assert response.status_code == 200
    assert response.text == "OK" if path == "/healthcheck" else "flower_" in response.text
