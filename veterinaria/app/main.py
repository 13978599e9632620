"""The veterinaria service (:8002): pets, clinical records, documents; OCR runs on the workers.

Run: `uvicorn --factory veterinaria.app.main:create_app --port 8002`.
"""

from __future__ import annotations

from fastapi import FastAPI

from common.config import Settings, load_settings
from common.schedules.routes import make_schedules_router
from common.web import create_service_app
from veterinaria.app import schedules
from veterinaria.app.routers import clinic, documents

DESCRIPTION = """
The clinic's records: pets, their clinical histories and documents. Heavy work (OCR of scanned
records, medical reports) runs as **jobs** on the Celery workers: a submission answers `202` with a
`task_id`; follow it at `GET /jobs/{task_id}`.

Every route but `/health` needs a bearer token from the auth service (`POST /token` on :8001).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        name="veterinaria",
        title="Timón Pet Store — veterinaria",
        description=DESCRIPTION,
        settings=settings or load_settings(),
        routers=[clinic.router, documents.router, make_schedules_router(schedules.KINDS)],
        uses_queue=True,
    )
