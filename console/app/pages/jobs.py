"""Trabajos: the user's jobs on both queue-using services (an admin sees everyone's), refreshed while any is active."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from console.app.backend import Backend
from console.app.rendering import render
from console.app.session import BackendDep, User, require_page

router = APIRouter()
LISTED = 50
ACTIVE = {"queued", "processing", "retrying"}
STATUS_NAMES = {"queued": "En cola", "processing": "En curso", "retrying": "Reintentando",
                "completed": "Completado", "failed": "Fallido"}
KIND_NAMES = {
    "inventory_import": "Importación de inventario", "price_update": "Cambio de precios",
    "inventory_report": "Informe de inventario", "medical_document": "Documento clínico",
    "medical_report": "Informe médico", "diagnostic": "Diagnóstico del sistema",
}
SERVICE_NAMES = {"petshop": "Tienda", "veterinaria": "Clínica"}
JobsUser = Annotated[User, Depends(require_page("trabajos"))]


def _jobs(backend: Backend, user: User) -> list[dict]:
    found = []
    for service in ("petshop", "veterinaria"):
        found += backend.get(service, "/jobs/", token=user.token, params={"limit": LISTED})
    found.sort(key=lambda job: job["created_at"], reverse=True)
    return found[:LISTED]


def _context(backend: Backend, user: User) -> dict:
    jobs = _jobs(backend, user)
    return {"user": user, "jobs": jobs, "active_jobs": sum(job["status"] in ACTIVE for job in jobs),
            "status_names": STATUS_NAMES, "kind_names": KIND_NAMES, "service_names": SERVICE_NAMES}


@router.get("/trabajos")
def jobs_page(request: Request, user: JobsUser, backend: BackendDep):
    return render(request, "jobs.html", **_context(backend, user))


@router.get("/trabajos/tabla")
def jobs_table(request: Request, user: JobsUser, backend: BackendDep):
    """The table alone, for htmx's refresh (every second while a job is active)."""
    return render(request, "_jobs_table.html", **_context(backend, user))
