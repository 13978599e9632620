"""Shared fixtures: a real Redis, a real database (SQLite or PostgreSQL), and the running system.

TEST_DATABASE=sqlite|postgresql picks the database (make test runs both); DATABASE_URL and
REDIS_URL, when set, are used as given (the seed's `DATABASE_URL=sqlite:///./test.db pytest ...`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from common.config import Settings
from common.db import make_engine, make_session_factory
from common.migrate import upgrade
from tests.servers import PostgresServer, RedisServer, Stack

DATABASE_FIXTURES = frozenset({"database_kind", "database_url", "new_database_url", "postgres_server"})


def pytest_collection_modifyitems(config, items):
    """In the PostgreSQL pass, leave out the tests that reach no database.

    A test whose fixtures never come to a database (parsing, OCR, messages, settings) does the same
    thing on both passes; `make test` runs it in the SQLite pass only. A test is database-bound when
    any fixture in its closure is one of DATABASE_FIXTURES (everything that builds a database or a
    stack goes through them).
    """
    if _database_kind() != "postgresql":
        return
    free = [item for item in items if not DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))]
    if free:
        config.hook.pytest_deselected(items=free)
        free_ids = {id(item) for item in free}
        items[:] = [item for item in items if id(item) not in free_ids]


def _database_kind() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return "postgresql" if url.startswith("postgres") else "sqlite"
    return os.environ.get("TEST_DATABASE", "sqlite")


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("timon")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    # not under pytest's 0700 temp dir: as root the server runs as another system user
    base = Path(tempfile.mkdtemp(prefix="timon-pg-"))
    base.chmod(0o755)
    server = PostgresServer(base / "data").start()
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def database_kind() -> str:
    return _database_kind()


@pytest.fixture(scope="session")
def new_database_url(request, work_dir, database_kind):
    """A factory of empty databases of the kind under test."""

    def make(name: str) -> str:
        if database_kind == "postgresql":
            return request.getfixturevalue("postgres_server").create_database(name)
        return f"sqlite:///{work_dir / name}.db"

    return make


@pytest.fixture(scope="session")
def database_url(new_database_url) -> str:
    return os.environ.get("DATABASE_URL") or new_database_url("timon_test")


@pytest.fixture(scope="module")
def sessions(new_database_url):
    """A session factory on a fresh, migrated database of the kind under test (one per test module)."""
    url = new_database_url(f"unit_{uuid.uuid4().hex[:8]}")
    upgrade(url)
    engine = make_engine(Settings(_env_file=None, database_url=url))
    yield make_session_factory(engine)
    engine.dispose()


# One Redis for the session; a module with a stack of its own takes a Redis database of its own, so
# that no other stack's worker takes its messages and nothing it leaves queued reaches the next one:
# 0 the shared stack (and the fault, fuzz, fair-use, throttle and Flower stacks), 4 schedule service,
# 5 console browser, 7 hostile input (tests/security/), 8 console job controls, 9 job controls, 10 time limits, 12 notifications, 13 S3,
# 14 telemetry, 15 the shared console stack (console clinic, console shop and column map).
@pytest.fixture(scope="session")
def redis_server(work_dir) -> Iterator[RedisServer]:
    server = RedisServer(work_dir / "redis", work_dir / "logs").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(request) -> str:
    return os.environ.get("REDIS_URL") or request.getfixturevalue("redis_server").url


@pytest.fixture(scope="session")
def stack(work_dir, database_url, redis_url) -> Iterator[Stack]:
    """The three services and one worker, shared by the tests that do not break things."""
    running = Stack(
        base_dir=work_dir / "stack", database_url=database_url, redis_url=redis_url, extra_env={"MAX_UPLOAD_MB": "2"}
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def shared_console_stack(work_dir, new_database_url, redis_server) -> Iterator[Stack]:
    """One console stack for the browser modules that set SHARED_CONSOLE_STACK (they break nothing and need
    no special settings); started on first use, without a worker: a story that needs one starts it."""
    from tests.browser_helpers import console_stack_for  # playwright is imported only where browsers run

    running = console_stack_for(work_dir / "shared_console", database_url=new_database_url("timon_shared_console"),
                                redis_url=f"redis://127.0.0.1:{redis_server.port}/15")
    try:
        running.start(workers=0)
        yield running
    finally:
        running.stop()


class Client:
    """HTTP to the running services as one user."""

    def __init__(self, stack: Stack, token: str | None):
        self.stack = stack
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, service: str, path: str, **kwargs) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.stack.url(service)}{path}", headers=headers, timeout=30, **kwargs)

    def get(self, service: str, path: str, **kwargs) -> httpx.Response:
        return self.request("GET", service, path, **kwargs)

    def post(self, service: str, path: str, **kwargs) -> httpx.Response:
        return self.request("POST", service, path, **kwargs)

    def patch(self, service: str, path: str, **kwargs) -> httpx.Response:
        return self.request("PATCH", service, path, **kwargs)


def login(stack: Stack, username: str, password: str) -> str:
    response = httpx.post(f"{stack.url('auth')}/token", data={"username": username, "password": password}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture(scope="session")
def admin(stack) -> Client:
    return Client(stack, login(stack, "admin", stack.admin_password))


@pytest.fixture(scope="session")
def make_user(stack, admin):
    """Create a user with a role through the admin API and return a logged-in Client for them."""

    def make(role: str, username: str | None = None) -> Client:
        username = username or f"{role}-{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(12)
        response = admin.post("auth", "/users/", json={"username": username, "password": password, "role": role})
        assert response.status_code == 201, response.text
        client = Client(stack, login(stack, username, password))
        client.user = response.json()
        return client

    return make


@pytest.fixture(scope="session")
def anonymous(stack) -> Client:
    return Client(stack, None)
