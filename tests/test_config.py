"""Settings: defaults need no environment; a bad value stops the process with one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from common.config import Settings, load_settings
from tests.servers import ROOT


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True
    )


def test_defaults_are_the_embedded_ones(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "VAR_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite:///var/timon.db"
    assert Settings(_env_file=None, var_dir="/srv/timon").database_url == "sqlite:////srv/timon/timon.db"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.celery_task_serializer == settings.celery_result_serializer == "json"
    assert settings.max_upload_bytes == 20 * 1024 * 1024


def test_visibility_timeout_outlasts_the_longest_wait_plus_the_hard_limit():
    settings = Settings(_env_file=None, max_queue_wait_seconds=1800, task_time_limit=600)
    assert settings.visibility_timeout > 1800 + 600
    assert settings.stale_processing_seconds > settings.visibility_timeout


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("MAX_UPLOAD_MB", "lots", "MAX_UPLOAD_MB"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL"),
        ("CELERY_TASK_SERIALIZER", "pickle", "CELERY_TASK_SERIALIZER"),
        ("STORAGE_URL", "ftp://files.example/x", "STORAGE_URL"),
    ],
)
def test_a_malformed_setting_stops_with_one_line_naming_it(variable, value, named, tmp_path):
    result = run_python("from common.config import load_settings; load_settings()", **{variable: value})

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("timon: bad configuration:") and named in lines[0]


def test_a_service_with_a_bad_setting_does_not_start_and_says_why():
    result = run_python(
        "import uvicorn; uvicorn.run('petshop.app.main:create_app', factory=True, port=0)", MAX_UPLOAD_MB="-3"
    )
    assert result.returncode != 0
    assert "timon: bad configuration: MAX_UPLOAD_MB" in result.stderr


def test_modules_import_without_any_environment():
    code = "import common.celery_app, auth.app.main, petshop.app.tasks, veterinaria.app.tasks; print('ok')"
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_load_settings_reads_the_environment(monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_MB", "7")
    assert load_settings().max_upload_bytes == 7 * 1024 * 1024


def test_env_example_documents_every_setting():
    documented = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        name = line.lstrip("# ").split("=", 1)[0]
        if "=" in line and name.isupper():
            documented.add(name)
    assert {name.upper() for name in Settings.model_fields} <= documented


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"JWT_SECRET": "s" * 31}, "JWT_SECRET"),
        ({"ADMIN_PASSWORD": "short"}, "ADMIN_PASSWORD"),
        ({"ADMIN_PASSWORD": "p" * 257}, "ADMIN_PASSWORD"),
    ],
)
def test_a_weak_secret_stops_the_process_outside_development(env, named):
    result = run_python("from common.config import load_settings; load_settings()", **env)

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("timon: bad configuration:") and named in lines[0]


def test_development_accepts_weak_secrets_and_strong_ones_pass_everywhere():
    weak = {"JWT_SECRET": "dev", "ADMIN_PASSWORD": "admin"}
    assert run_python("from common.config import load_settings; load_settings()", ENVIRONMENT="development", **weak).returncode == 0
    strong = {"JWT_SECRET": "s" * 32, "ADMIN_PASSWORD": "una-clave-larga"}
    assert run_python("from common.config import load_settings; load_settings()", **strong).returncode == 0


def test_the_readme_states_the_cors_default_the_code_has():
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `CORS_ORIGINS`"))
    default = Settings(_env_file=None).cors_origins

    assert "`[]`" not in row.split("|")[2] and default
    assert {"127.0.0.1", "localhost", "8001", "8002", "8004"} <= set(row.replace("(", " ").replace(")", " ").replace(",", " ").replace("`", " ").split())
    assert {origin.rsplit(":", 1)[1] for origin in default} == {"8001", "8002", "8004"}



@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"STORAGE_URL": "s3://Bad_Bucket/x"}, "STORAGE_URL"),
        ({"STORAGE_URL": "file://relative/path"}, "STORAGE_URL"),
        ({"S3_ENDPOINT_URL": "minio:9000"}, "S3_ENDPOINT_URL"),
        ({"S3_PART_SIZE_MB": "1"}, "S3_PART_SIZE_MB"),
        ({"S3_ACCESS_KEY_ID": "only-half-of-a-pair"}, "S3_SECRET_ACCESS_KEY"),
    ],
)
def test_a_bad_storage_setting_is_one_line_naming_it(env, named, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        load_settings(Settings)
    message = str(stopped.value)
    assert message.startswith("timon: bad configuration:") and named in message and "\n" not in message


def test_a_credentials_file_that_is_not_there_stops_the_service_with_one_line(tmp_path, monkeypatch):
    from petshop.app.main import create_app

    for name, value in {"VAR_DIR": str(tmp_path), "STORAGE_URL": "s3://timon-files",
                        "S3_ACCESS_KEY_ID_FILE": str(tmp_path / "missing"),
                        "S3_SECRET_ACCESS_KEY_FILE": str(tmp_path / "missing-too")}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert str(stopped.value) == (
        f"timon: bad configuration: S3_ACCESS_KEY_ID_FILE: cannot read {tmp_path / 'missing'} (No such file or directory)"
    )
