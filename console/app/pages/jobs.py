"""Trabajos: the user's jobs on both queue-using services (an admin sees everyone's), refreshed while any is active.

Filters by status and kind; «Cancelar» on an active job (its owner or an admin), «Reintentar» on a
failed or cancelled one (admins). Both post to the service's own /jobs/{id}/cancel and /retry and come
back here with what the service answered.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse

from console.app.backend import Backend, BackendError, SessionExpired
from console.app.rendering import render
from console.app.session import BackendDep, CsrfChecked, User, require_page

router = APIRouter()
LISTED = 50
ACTIVE = {"queued", "processing", "retrying"}
RETRYABLE = {"failed", "cancelled"}
STATUS_NAMES = {"queued": "En cola", "processing": "En curso", "retrying": "Reintentando",
                "completed": "Completado", "failed": "Fallido", "cancelled": "Cancelado"}
KIND_NAMES = {
    "inventory_import": "Importación de inventario", "price_update": "Cambio de precios",
    "inventory_report": "Informe de inventario", "medical_document": "Documento clínico",
    "medical_report": "Informe médico", "diagnostic": "Diagnóstico del sistema",
}
SERVICE_NAMES = {"petshop": "Tienda", "veterinaria": "Clínica"}
JobsUser = Annotated[User, Depends(require_page("trabajos"))]
Service = Annotated[Literal["petshop", "veterinaria"], Path()]
JobId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{8,64}$")]
StatusFilter = Annotated[str, Query(alias="estado", max_length=16)]
KindFilter = Annotated[str, Query(alias="tipo", max_length=40)]


def _jobs(backend: Backend, user: User, status: str, kind: str) -> list[dict]:
    params = {"limit": LISTED, "status": status if status in STATUS_NAMES else None,
              "kind": kind if kind in KIND_NAMES else None}
    found = []
    for service in ("petshop", "veterinaria"):
        found += backend.get(service, "/jobs/", token=user.token, params=params)
    found.sort(key=lambda job: job["created_at"], reverse=True)
    return found[:LISTED]


def _context(backend: Backend, user: User, status: str, kind: str) -> dict:
    jobs = _jobs(backend, user, status, kind)
    return {"user": user, "jobs": jobs, "active_jobs": sum(job["status"] in ACTIVE for job in jobs),
            "status_names": STATUS_NAMES, "kind_names": KIND_NAMES, "service_names": SERVICE_NAMES,
            "active_statuses": ACTIVE, "retryable_statuses": RETRYABLE, "status": status, "kind": kind,
            "filters": {"estado": status, "tipo": kind}}


@router.get("/trabajos")
def jobs_page(request: Request, user: JobsUser, backend: BackendDep, status: StatusFilter = "", kind: KindFilter = ""):
    return render(request, "jobs.html", **_context(backend, user, status, kind))


@router.get("/trabajos/tabla")
def jobs_table(request: Request, user: JobsUser, backend: BackendDep, status: StatusFilter = "", kind: KindFilter = ""):
    """The table alone, for htmx's refresh (every second while a job is active)."""
    return render(request, "_jobs_table.html", **_context(backend, user, status, kind))


@router.post("/trabajos/{service}/{job_id}/cancelar", dependencies=[CsrfChecked])
def cancel_job(request: Request, user: JobsUser, backend: BackendDep, service: Service, job_id: JobId):
    """Cancel a job: at once if it has not started, at its next step if it is running."""
    return _act(request, backend, user, service, f"/jobs/{job_id}/cancel", done=lambda job: (
        "Trabajo cancelado." if job["status"] == "cancelled"
        else "Se ha pedido que el trabajo se detenga: se parará en su próximo paso sin guardar nada."))


@router.post("/trabajos/{service}/{job_id}/reintentar", dependencies=[CsrfChecked])
def retry_job(request: Request, user: JobsUser, backend: BackendDep, service: Service, job_id: JobId):
    """Run a failed or cancelled job again as a new job (the service allows it to admins only)."""
    return _act(request, backend, user, service, f"/jobs/{job_id}/retry",
                done=lambda job: "Trabajo reintentado: el nuevo aparece el primero de la lista.")


def _act(request: Request, backend: Backend, user: User, service: str, path: str, done) -> RedirectResponse:
    try:
        request.session["flash"] = done(backend.request(service, "POST", path, token=user.token))
    except SessionExpired:
        raise
    except BackendError as exc:  # already finished, file gone, not allowed…: the service's own words
        request.session["flash"] = exc.message
    return RedirectResponse("/trabajos", status_code=303)
