"""Property-based API tests: schemathesis sends what each service's OpenAPI allows, and much that it
does not, to the running services, with a valid token of each role: no answer may be a 5xx
(`not_a_server_error`) and none may break the schema the service publishes for it
(`response_schema_conformance`).

A stack of its own (the fuzzer changes users, prices and stock at random), on the database under
test, so `make test` runs it on SQLite and on PostgreSQL. Bounded twice: EXAMPLES cases per
operation and phase, and a time budget per service and role (the admin, who may call everything,
gets most of it; the other roles are mostly refused early), whichever comes first; a fixed seed
makes a failure repeatable with the command the test prints.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import login
from tests.servers import Stack

EXAMPLES = 20
# seconds per service and role: 3 × (20 + 3 × 6) ≈ 2 minutes a database (the suite runs twice; keep CI near 30 minutes)
TIME_BUDGET = {"admin": 20, "veterinario": 6, "empleado": 6, "cliente": 6}
CHECKS = "not_a_server_error,response_schema_conformance"
SEED = 20261201


@pytest.fixture(scope="module")
def fuzz_stack(work_dir, new_database_url, redis_url):
    name = f"fuzz_{uuid.uuid4().hex[:6]}"
    stack = Stack(base_dir=work_dir / name, database_url=new_database_url(name), redis_url=redis_url,
                  extra_env={"MAX_UPLOAD_MB": "2"})
    try:
        stack.start()
        admin = login(stack, "admin", stack.admin_password)
        stack.tokens = {"admin": admin}
        for role in ("veterinario", "empleado", "cliente"):
            username, password = f"fuzz-{role}", secrets.token_urlsafe(12)
            created = httpx.post(f"{stack.url('auth')}/users/", headers={"Authorization": f"Bearer {admin}"},
                                 json={"username": username, "password": password, "role": role}, timeout=30)
            assert created.status_code == 201, created.text
            stack.tokens[role] = login(stack, username, password)
        yield stack
    finally:
        stack.stop()


def schemathesis_command(stack: Stack, service: str, role: str) -> list[str]:
    return [
        str(Path(sys.executable).parent / "schemathesis"), "run", f"{stack.url(service)}/openapi.json",
        "--checks", CHECKS, "--max-examples", str(EXAMPLES), "--max-time", str(TIME_BUDGET[role]),
        "--seed", str(SEED), "--workers", "1", "--request-timeout", "30", "--no-shrink",
        "--header", f"Authorization: Bearer {stack.tokens[role]}",
    ]


@pytest.mark.parametrize("role", list(TIME_BUDGET))
@pytest.mark.parametrize("service", ["auth", "petshop", "veterinaria"])
def test_no_request_makes_a_service_answer_5xx_or_break_its_schema(fuzz_stack, service, role, tmp_path):
    result = subprocess.run(
        schemathesis_command(fuzz_stack, service, role), cwd=tmp_path, capture_output=True, text=True,
        timeout=TIME_BUDGET[role] + 120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_COLOR": "1"},
    )

    assert result.returncode == 0, f"{result.stdout[-12000:]}\n{result.stderr[-2000:]}\n{fuzz_stack.logs()[-4000:]}"
    assert "Test cases:" in result.stdout and " passed" in result.stdout.split("Test cases:")[1]


