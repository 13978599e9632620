"""The petshop service (:8004): stores, products, stock, sales; inventory imports run on the workers.

Run: `uvicorn --factory petshop.app.main:create_app --port 8004`.
"""

from __future__ import annotations

from fastapi import FastAPI

from common.config import Settings, load_settings
from common.schedules.routes import make_schedules_router
from common.web import create_service_app
from petshop.app import schedules
from petshop.app.routers import catalog, jobs

DESCRIPTION = """
The shop's back office: stores, products and stock. Heavy work (inventory file imports, bulk
price updates, reports) runs as **jobs** on the Celery workers: a submission answers `202` with a
`task_id`; follow it at `GET /jobs/{task_id}`.

Every route but `/health` needs a bearer token from the auth service (`POST /token` on :8001).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        name="petshop",
        title="Timón Pet Store — petshop",
        description=DESCRIPTION,
        settings=settings or load_settings(),
        routers=[catalog.router, jobs.router, make_schedules_router(schedules.KINDS)],
        uses_queue=True,
    )
