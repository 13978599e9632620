"""No secret from an example is accepted outside development: a placeholder or a too-short value for any
secret the operator may set stops the process at start, with one line naming the variable. Left unset,
each is generated (32 random bytes) and always passes; a webhook's signing secret is always ours.
"""

from __future__ import annotations

import secrets
import subprocess
import sys

import pytest

from tests.test_config import ROOT, run_python

LOAD = "from common.config import load_settings; load_settings()"
SECRETS = ("JWT_SECRET", "ADMIN_PASSWORD", "FLOWER_PASSWORD", "CONSOLE_SESSION_SECRET", "METRICS_TOKEN")
# long enough for every length rule, so only the placeholder check can refuse them
PLACEHOLDERS = ("change-me-change-me-change-me-change-me", "SecretSecretSecretSecretSecretSecret",
                "Timon-PetStore-0000000000000000000000", "password1234567890123456789012")


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_a_placeholder_secret_stops_the_process_outside_development(placeholder):
    result = run_python(LOAD, **{name: placeholder for name in SECRETS})

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("timon: bad configuration:"), result.stderr
    assert [name for name in SECRETS if name not in lines[0]] == []


@pytest.mark.parametrize(("name", "short"), [("CONSOLE_SESSION_SECRET", "k7Q2xZ9mPq"), ("METRICS_TOKEN", "k7Q2xZ9mPq"),
                                             ("FLOWER_PASSWORD", "k7Q2xZ9"), ("JWT_SECRET", "k7Q2xZ9mPq")])
def test_a_short_secret_stops_the_process_outside_development(name, short):
    result = run_python(LOAD, **{name: short})

    assert result.returncode != 0 and name in result.stderr


def test_development_accepts_placeholders_and_real_secrets_pass_everywhere():
    placeholders = {name: "changeme" for name in SECRETS}
    assert run_python(LOAD, ENVIRONMENT="development", **placeholders).returncode == 0
    real = {name: secrets.token_urlsafe(32) for name in SECRETS}
    assert run_python(LOAD, **real).returncode == 0, run_python(LOAD, **real).stderr


def test_a_service_started_with_a_placeholder_metrics_token_does_not_start(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "--factory", "petshop.app.main:create_app", "--port", "0"], cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path), "METRICS_TOKEN": "changeme"},
        capture_output=True, text=True, timeout=60,
    )

    assert result.returncode != 0 and "METRICS_TOKEN" in result.stderr


def test_unset_secrets_are_generated_strong_enough_to_pass(tmp_path):
    code = ("from common.config import load_settings; from common.secrets import read_or_create; s = load_settings(); "
            "[print(read_or_create(s.secrets_dir, n)[0]) for n in ('jwt_secret', 'console_session_secret', 'flower_password')]")
    result = run_python(code, VAR_DIR=str(tmp_path))
    generated = result.stdout.split()

    assert result.returncode == 0 and len(generated) == 3
    assert run_python(LOAD, JWT_SECRET=generated[0], CONSOLE_SESSION_SECRET=generated[1],
                      FLOWER_PASSWORD=generated[2]).returncode == 0


def test_a_webhook_signing_secret_cannot_be_chosen_and_is_256_bits(world):
    client = world.clients["cliente"]

    chosen = client.post("auth", "/users/me/notificaciones/webhooks",
                         json={"url": "https://example.invalid/hook", "secret": "changeme"})
    created = client.post("auth", "/users/me/notificaciones/webhooks", json={"url": "https://example.invalid/hook"})

    assert chosen.status_code == 422
    assert created.status_code == 201, created.text
    assert len(created.json()["secret"]) >= 43  # 32 random bytes, URL-safe base64
