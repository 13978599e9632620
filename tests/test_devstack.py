"""`make up`'s runner: the whole system on the fixed ports, stopped by Ctrl-C, data kept across runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import httpx
import psutil
import pytest
from honcho.manager import KILL_WAIT

from common.config import Settings
from common.devstack import CONSOLE_PORT, FLOWER_PORT, SERVICES, procfile
from tests.jobs_helpers import submit_diagnostic, wait_for_job
from tests.servers import ROOT, wait_until

PORTS = [*SERVICES.values(), CONSOLE_PORT, FLOWER_PORT, 6379]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_the_procfile_starts_redis_only_when_no_redis_url_is_given(monkeypatch, tmp_path):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr("common.devstack._port_in_use", lambda host, port: False)
    settings = Settings(_env_file=None, var_dir=tmp_path)

    embedded = procfile(settings)
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere:6379/0")
    external = procfile(settings)

    assert embedded.startswith("redis: ") and "--appendonly yes" in embedded and str(tmp_path / "redis") in embedded
    assert "redis:" not in external
    for text in (embedded, external):
        names = [line.split(":", 1)[0] for line in text.splitlines()]
        assert {"auth", "veterinaria", "petshop", "console", "worker", "beat", "flower"} <= set(names)
        # Ctrl-C: honcho SIGKILLs after KILL_WAIT; the worker hands its jobs back before that
        [worker] = [line for line in text.splitlines() if line.startswith("worker:")]
        assert "REMAP_SIGTERM=SIGQUIT" in worker
        soft = int(worker.split("WORKER_SOFT_SHUTDOWN_TIMEOUT=")[1].split()[0])
        assert 0 < soft < KILL_WAIT
        # the worker runs under supervisord, which starts it again if it exits, and stops it before KILL_WAIT
        assert "-m supervisor.supervisord --nodaemon" in worker
        conf = (tmp_path / "worker-supervisord.conf").read_text()
        assert "worker --loglevel=info --queues=veterinaria,petshop" in conf and "autorestart=true" in conf
        assert soft < int(conf.split("stopwaitsecs=")[1].split()[0]) < KILL_WAIT


class Up:
    """`python -m common.devstack` (what `make up` runs) in its own process group."""

    def __init__(self, var_dir):
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "ADMIN_PASSWORD")}
        env["VAR_DIR"] = str(var_dir)
        self.log = var_dir.parent / "up.log"
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "common.devstack"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_healthy(self):
        for port in [*SERVICES.values(), CONSOLE_PORT]:
            wait_until(lambda p=port: httpx.get(f"http://127.0.0.1:{p}/health", timeout=2).status_code == 200,
                       timeout=60, what=f"port {port} healthy; log:\n{self.output()}")

    def ctrl_c(self):
        os.killpg(self.process.pid, signal.SIGINT)  # what the terminal sends to the foreground group
        self.process.wait(60)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def free_fixed_ports():
    taken = [port for port in PORTS if port_open(port)]
    if taken:
        pytest.skip(f"ports {taken} are in use (is `make up` running?): this test needs them free")


def test_make_up_runs_everything_stops_on_ctrl_c_and_keeps_data(tmp_path, free_fixed_ports):
    var_dir = tmp_path / "var"
    up = Up(var_dir)
    try:
        up.wait_healthy()
        password = (var_dir / "secrets" / "admin_password").read_text().strip()
        token = httpx.post("http://127.0.0.1:8001/token", data={"username": "admin", "password": password}).json()
        client = _Client(token["access_token"])
        job_id = submit_diagnostic(client, "petshop", steps=2, step_seconds=0.1)
        assert wait_for_job(client, "petshop", job_id)["status"] == "completed"
        # Flower is up and asks for a password
        wait_until(lambda: port_open(FLOWER_PORT), timeout=30, what="flower")
        assert httpx.get(f"http://127.0.0.1:{FLOWER_PORT}/").status_code == 401
        flower_password = (var_dir / "secrets" / "flower_password").read_text().strip()
        assert httpx.get(f"http://127.0.0.1:{FLOWER_PORT}/", auth=("admin", flower_password)).status_code == 200

        # the worker's main process dies (OOM killer, a crash): supervisord starts a new one
        first = worker_main_process(up)
        first.kill()
        wait_until(lambda: (w := worker_main_process(up)) is not None and w.pid != first.pid, timeout=60,
                   what="a new worker started")
        again_id = submit_diagnostic(client, "petshop", steps=1, step_seconds=0)
        assert wait_for_job(client, "petshop", again_id, timeout=120)["status"] == "completed"
    finally:
        up.ctrl_c()

    printed = up.output()
    assert "http://127.0.0.1:8001/docs" in printed and "admin_password" in printed
    # the console's URL is the first one printed: it is what people open
    assert printed.index("http://127.0.0.1:8000/") < printed.index("http://127.0.0.1:8001/docs")
    wait_until(lambda: not any(port_open(port) for port in PORTS), timeout=30, what="every port released")
    assert (var_dir / "timon.db").exists()
    assert any((var_dir / "redis" / "appendonlydir").glob("*.manifest"))  # Redis 7: a multi-part AOF

    again = Up(var_dir)
    try:
        again.wait_healthy()
        token = httpx.post("http://127.0.0.1:8001/token", data={"username": "admin", "password": password}).json()
        job = _Client(token["access_token"]).get("petshop", f"/jobs/{job_id}").json()
        assert job["status"] == "completed"  # the same database, the same admin password
    finally:
        again.ctrl_c()


def worker_main_process(up: Up) -> psutil.Process | None:
    """The Celery worker's main process: supervisord's child."""
    for process in psutil.Process(up.process.pid).children(recursive=True):
        try:
            if process.cmdline()[1:3] == ["-m", "supervisor.supervisord"]:  # not the shell honcho runs it with
                children = [c for c in process.children() if c.status() != psutil.STATUS_ZOMBIE]
                return children[0] if children else None
        except psutil.Error:  # a process that has just exited
            continue
    return None


class _Client:
    def __init__(self, token: str):
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, service, path, **kwargs):
        return httpx.get(f"http://127.0.0.1:{SERVICES[service]}{path}", headers=self.headers, timeout=30, **kwargs)

    def post(self, service, path, **kwargs):
        return httpx.post(f"http://127.0.0.1:{SERVICES[service]}{path}", headers=self.headers, timeout=30, **kwargs)
