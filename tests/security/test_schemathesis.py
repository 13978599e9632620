"""Property-based API tests: schemathesis sends what each service's OpenAPI allows, and much that it
does not, to the running services, and no answer may be a 5xx (`not_a_server_error`).

A stack of its own (the fuzzer changes users, prices and stock at random), on the database under
test, so `make test` runs it on SQLite and on PostgreSQL. Bounded twice: EXAMPLES cases per
operation and phase, and TIME_BUDGET seconds per service, whichever comes first; a fixed seed makes
a failure repeatable with the command the test prints.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import login
from tests.servers import Stack

EXAMPLES = 20
TIME_BUDGET = 40  # seconds per service (the suite runs twice; keep CI near 30 minutes)
SEED = 20261201


@pytest.fixture(scope="module")
def fuzz_stack(work_dir, new_database_url, redis_url):
    name = f"fuzz_{uuid.uuid4().hex[:6]}"
    stack = Stack(base_dir=work_dir / name, database_url=new_database_url(name), redis_url=redis_url,
                  extra_env={"MAX_UPLOAD_MB": "2"})
    try:
        stack.start()
        stack.token = login(stack, "admin", stack.admin_password)
        yield stack
    finally:
        stack.stop()


def schemathesis_command(stack: Stack, service: str) -> list[str]:
    return [
        str(Path(sys.executable).parent / "schemathesis"), "run", f"{stack.url(service)}/openapi.json",
        "--checks", "not_a_server_error", "--max-examples", str(EXAMPLES), "--max-time", str(TIME_BUDGET),
        "--seed", str(SEED), "--workers", "1", "--request-timeout", "30", "--no-shrink",
        "--header", f"Authorization: Bearer {stack.token}",
    ]


@pytest.mark.parametrize("service", ["auth", "petshop", "veterinaria"])
def test_no_request_makes_a_service_answer_5xx(fuzz_stack, service, tmp_path):
    result = subprocess.run(
        schemathesis_command(fuzz_stack, service), cwd=tmp_path, capture_output=True, text=True,
        timeout=TIME_BUDGET + 120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_COLOR": "1"},
    )

    assert result.returncode == 0, f"{result.stdout[-12000:]}\n{result.stderr[-2000:]}\n{fuzz_stack.logs()[-4000:]}"
    assert "Test cases:" in result.stdout and " passed" in result.stdout.split("Test cases:")[1]


