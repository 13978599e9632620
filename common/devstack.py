"""`make up`: the whole system on one machine, run by honcho from a generated Procfile.

Embedded defaults: SQLite under var/ unless DATABASE_URL is set; Debian's redis-server, the major
version compose runs (append-only file under var/redis), unless REDIS_URL is set. Ctrl-C stops every
process; data stays in var/ for the next run.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values
from honcho.manager import KILL_WAIT

from common.config import Settings, load_settings
from common.secrets import read_or_create

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"auth": 8001, "veterinaria": 8002, "petshop": 8004}
# the web console people use (console/app): it reaches the services above over HTTP at their defaults
CONSOLE_PORT = 8000
FLOWER_PORT = 5555
WORKER_METRICS_PORT = 9808  # the worker's Prometheus exporter (common/telemetry/worker.py)
# Every worker process, here, in the image and in compose: SIGTERM starts Celery's cold shutdown,
# which gives running jobs worker_soft_shutdown_timeout to finish, then hands them back to Redis.
WORKER_ENV = {"REMAP_SIGTERM": "SIGQUIT"}
# honcho SIGKILLs what is still running KILL_WAIT seconds after Ctrl-C: hand jobs back before that
DEVSTACK_SOFT_SHUTDOWN_SECONDS = max(1, KILL_WAIT - 2)


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def _redis_line(settings: Settings) -> str | None:
    """The Procfile line for an embedded Redis, or None when REDIS_URL points elsewhere."""
    if "REDIS_URL" in os.environ or "REDIS_URL" in dotenv_values(ROOT / ".env"):
        return None
    executable = shutil.which("redis-server")
    if executable is None:
        raise SystemExit("timon: redis-server is not installed: run `make up` (it installs it), or apt-get install redis-server")
    url = urlsplit(settings.redis_url)
    host, port = url.hostname or "127.0.0.1", url.port or 6379
    if _port_in_use(host, port):
        raise SystemExit(
            f"timon: port {port} is taken (another Redis?). Stop it, or point REDIS_URL at it to use it instead."
        )
    data = (settings.var_dir / "redis").resolve()
    data.mkdir(parents=True, exist_ok=True)
    args = [
        executable, "--bind", host, "--port", str(port), "--dir", str(data),
        "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--protected-mode", "yes",
    ]
    return shlex.join(args)


def worker_supervisor_conf(settings: Settings, command: str) -> str:
    """supervisord's configuration for the one worker: restarted whenever it exits, its output on
    supervisord's (so honcho prefixes it), and stopped well inside honcho's KILL_WAIT.

    The worker's environment is supervisord's own (the Procfile line sets it). supervisord puts the
    worker in a process group of its own, so honcho's signals reach supervisord only; on SIGTERM
    supervisord passes it on (the worker's cold shutdown) and SIGKILLs the worker's whole group after
    `stopwaitsecs`, before honcho's SIGKILL would leave it orphaned.
    """
    run = (settings.var_dir / "run").resolve()
    run.mkdir(parents=True, exist_ok=True)
    return "\n".join([
        "[supervisord]",
        f"logfile={run / 'supervisord.log'}", "logfile_maxbytes=1MB", "logfile_backups=1",
        f"pidfile={run / 'supervisord.pid'}", "loglevel=info", "user=root" if os.geteuid() == 0 else "",
        "[program:worker]",
        f"command={command}",
        f"directory={ROOT}",
        "autostart=true", "autorestart=true", "startsecs=5", "startretries=1000",
        "stopsignal=TERM", f"stopwaitsecs={DEVSTACK_SOFT_SHUTDOWN_SECONDS + 1}", "stopasgroup=true", "killasgroup=true",
        "redirect_stderr=true", "stdout_logfile=/dev/stdout", "stdout_logfile_maxbytes=0",
        "",
    ])


def procfile(settings: Settings) -> str:
    python = shlex.quote(sys.executable)
    celery = f"{python} -m celery -A common.celery_app"
    lines = []
    redis_line = _redis_line(settings)
    if redis_line:
        lines.append(f"redis: {redis_line}")
    for name, port in {**SERVICES, "console": CONSOLE_PORT}.items():
        lines.append(f"{name}: {python} -m uvicorn --factory {name}.app.main:create_app --host 127.0.0.1 --port {port}")
    # the worker's metrics: its children write to this folder (emptied at start), its exporter serves the sum
    metrics = {"PROMETHEUS_MULTIPROC_DIR": (settings.var_dir / "worker-metrics").resolve(),
               "WORKER_METRICS_PORT": settings.worker_metrics_port or WORKER_METRICS_PORT}
    worker_env = shlex.join(
        f"{k}={v}" for k, v in {**WORKER_ENV, "WORKER_SOFT_SHUTDOWN_TIMEOUT": DEVSTACK_SOFT_SHUTDOWN_SECONDS, **metrics}.items()
    )
    schedule = shlex.quote(str((settings.var_dir / "celerybeat-schedule").resolve()))
    supervisor_conf = (settings.var_dir / "worker-supervisord.conf").resolve()
    supervisor_conf.write_text(worker_supervisor_conf(settings, f"{celery} worker --loglevel=info --queues=veterinaria,petshop"))
    lines += [
        # supervisord starts the worker again if it ever exits (honcho would stop everything instead)
        f"worker: {worker_env} {python} -m supervisor.supervisord --nodaemon --configuration {shlex.quote(str(supervisor_conf))}",
        f"beat: {celery} beat --loglevel=info --schedule={schedule}",
        f"flower: {celery} flower --port={FLOWER_PORT} --address=127.0.0.1",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    settings = load_settings()
    os.chdir(ROOT)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    for name in ("jwt_secret", "flower_password", "console_session_secret"):
        read_or_create(settings.secrets_dir, name, getattr(settings, name))
    subprocess.run([sys.executable, "-m", "common.migrate"], check=True)
    admin = subprocess.run(
        [sys.executable, "-m", "auth.app.bootstrap"], check=True, capture_output=True, text=True
    ).stdout.strip()
    procfile_path = settings.var_dir / "Procfile"
    procfile_path.write_text(procfile(settings))
    flower_where = "FLOWER_PASSWORD" if settings.flower_password else settings.secrets_dir / "flower_password"
    print(
        "\nTimón Pet Store is starting:\n"
        + f"  console      http://127.0.0.1:{CONSOLE_PORT}/   <- open this in a browser\n"
        + "".join(f"  {name:<12} http://127.0.0.1:{port}/docs\n" for name, port in SERVICES.items())
        + f"  flower       http://127.0.0.1:{FLOWER_PORT}/  (user '{settings.flower_user}', password in {flower_where})\n"
        + f"  metrics      http://127.0.0.1:<port>/metrics on each service, the worker's at "
        f"http://127.0.0.1:{settings.worker_metrics_port or WORKER_METRICS_PORT}/metrics\n"
        + f"  {admin}\n"
        + f"  database: {settings.database_url.split('@')[-1]}   redis: {settings.redis_url.split('@')[-1]}\n"
        + "Ctrl-C stops everything; data stays in var/.\n",
        flush=True,
    )
    os.execvp(sys.executable, [sys.executable, "-m", "honcho", "-f", str(procfile_path), "-d", str(ROOT), "start"])


if __name__ == "__main__":
    main()
