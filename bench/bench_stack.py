"""The stack a bench runs against: its own Redis, PostgreSQL or SQLite and the services, in a temporary folder."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers import PostgresServer, RedisServer, Stack


@contextmanager
def bench_stack(name: str, database: str, *, workers: int, extra_env: dict[str, str] | None = None,
                ) -> Iterator[tuple[Stack, str, PostgresServer | None]]:
    """The running stack, its database URL and its PostgreSQL server (None on SQLite); all stopped and removed after."""
    work = Path(tempfile.mkdtemp(prefix=f"timon-{name}-"))
    work.chmod(0o755)
    redis = RedisServer(work / "redis", work / "logs").start()
    postgres = None
    try:
        if database == "postgresql":
            (work / "pg").mkdir()
            postgres = PostgresServer(work / "pg" / "data").start()
            database_url = postgres.create_database(name.replace("-", "_"))
        else:
            database_url = f"sqlite:///{work / f'{name}.db'}"
        stack = Stack(base_dir=work / "stack", database_url=database_url, redis_url=redis.url, extra_env=extra_env)
        stack.start(workers=workers)
        try:
            yield stack, database_url, postgres
        finally:
            stack.stop()
    finally:
        redis.stop()
        if postgres:
            postgres.stop()
        shutil.rmtree(work, ignore_errors=True)
