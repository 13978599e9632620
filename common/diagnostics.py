"""The diagnostic job: proves the whole path (API → Redis → worker → database and storage → API).

An admin submits one per service after a deploy, or when adding a worker machine; it reports
progress step by step and returns which worker ran it. It can also be told to fail, so the error
paths (bad input, transient retry) can be seen end to end.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from common.errors import BadInput
from common.storage import Storage

FailWith = Literal["bad_input", "transient"]


class DiagnosticIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(default=5, ge=1, le=100, description="How many progress steps to report")
    step_seconds: float = Field(default=0.2, ge=0, le=60, description="Pause per step")
    fail_with: FailWith | None = Field(
        default=None, description="Make the job fail on purpose: `bad_input` fails at once, `transient` retries first"
    )


def run(
    *, storage: Storage, job_id: str, attempt: int, params: dict, report: Callable[[float], None]
) -> dict:
    """Run the diagnostic described by `params` (a DiagnosticIn)."""
    spec = DiagnosticIn.model_validate(params)
    started = time.monotonic()
    key = f"diagnostics/{job_id}.txt"
    storage.save_bytes(job_id.encode(), key=key)
    with storage.open(key) as handle:
        storage_ok = handle.read() == job_id.encode()
    storage.delete(key)
    if spec.fail_with == "bad_input":
        raise BadInput(
            "El diagnóstico pidió fallar por datos no válidos: este es el mensaje que leería la persona.",
            code="diagnostic_bad_input",
        )
    if spec.fail_with == "transient" and attempt <= 1:
        raise ConnectionError("diagnostic: simulated transient outage")
    for step in range(1, spec.steps + 1):
        time.sleep(spec.step_seconds)
        report(100 * step / (spec.steps + 1))
    return {
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "attempt": attempt,
        "steps": spec.steps,
        "storage": "ok" if storage_ok else "mismatch",
        "seconds": round(time.monotonic() - started, 3),
    }
