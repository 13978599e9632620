"""Login throttling: failures counted per account and per address, shared by every auth process
through Redis; a throttled login is a 429 with Retry-After and a Spanish message."""

from __future__ import annotations

import sys
import uuid

import httpx
import pytest

from tests.servers import Process, Stack, free_port, wait_until

PER_ACCOUNT, PER_ADDRESS = 3, 12


@pytest.fixture(scope="module")
def two_auth_processes(work_dir, new_database_url, redis_url):
    """Two auth processes on one database and one Redis, as two machines behind a balancer would be."""
    name = f"throttle_{uuid.uuid4().hex[:6]}"
    stack = Stack(base_dir=work_dir / name, database_url=new_database_url(name), redis_url=redis_url, extra_env={
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": str(PER_ACCOUNT), "LOGIN_MAX_FAILURES_PER_ADDRESS": str(PER_ADDRESS),
        "JWT_ISSUER": name,
    })
    stack.run("-m", "common.migrate")
    stack.run("-m", "auth.app.bootstrap")
    processes, urls = [], []
    for index in range(2):
        port = free_port()
        processes.append(Process(f"auth{index}", [
            sys.executable, "-m", "uvicorn", "--factory", "auth.app.main:create_app", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning"], env=stack.env, log_dir=stack.log_dir).start())
        urls.append(f"http://127.0.0.1:{port}")
    for url in urls:
        wait_until(lambda u=url: httpx.get(f"{u}/health", timeout=2).status_code == 200, timeout=30, what="auth")
    yield stack, urls
    for process in processes:
        process.stop()


def login(url: str, username: str, password: str) -> httpx.Response:
    return httpx.post(f"{url}/token", data={"username": username, "password": password}, timeout=30)


def create_user(stack: Stack, url: str) -> tuple[str, str]:
    token = login(url, "admin", stack.admin_password).json()["access_token"]
    username, password = f"cajero-{uuid.uuid4().hex[:6]}", "una-clave-larga-y-buena"
    created = httpx.post(f"{url}/users/", json={"username": username, "password": password, "role": "empleado"},
                         headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201, created.text
    return username, password


def test_an_account_is_throttled_after_its_failures_on_any_process(two_auth_processes):
    stack, (first, second) = two_auth_processes
    username, password = create_user(stack, first)

    statuses = [login((first, second)[n % 2], username.upper(), f"wrong-{n}").status_code for n in range(PER_ACCOUNT)]
    throttled = login(second, username, password)

    assert statuses == [401] * PER_ACCOUNT
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "login_throttled" and "Demasiados intentos" in throttled.json()["detail"]
    assert 1 <= int(throttled.headers["Retry-After"]) <= 900


def test_a_success_clears_the_account_failures(two_auth_processes):
    stack, (first, second) = two_auth_processes
    username, password = create_user(stack, first)

    for round_ in range(2):
        for n in range(PER_ACCOUNT - 1):
            assert login(first, username, f"wrong-{round_}-{n}").status_code == 401
        assert login(second, username, password).status_code == 200


def test_an_address_is_throttled_across_accounts(two_auth_processes):
    stack, (first, second) = two_auth_processes

    statuses = [login((first, second)[n % 2], f"nadie-{n}", "whatever-it-is").status_code for n in range(PER_ADDRESS)]
    throttled = login(first, "admin", stack.admin_password)

    assert statuses.count(401) + statuses.count(429) == PER_ADDRESS and statuses[-1] == 429
    assert throttled.status_code == 429 and throttled.json()["code"] == "login_throttled"
