"""Importar inventario: pick a store and a file, see the dry run's preview, then apply it and watch it run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from console.app.backend import BackendError, SessionExpired
from console.app.pending import PendingUploads, TooLarge
from console.app.rendering import render
from console.app.session import BackendDep, CsrfChecked, User, require_page

router = APIRouter()
ImportUser = Annotated[User, Depends(require_page("importar"))]
JobId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{8,64}$")]
ACTIVE = {"queued", "processing", "retrying"}
#: the import's fields as the shop calls them (petshop/app/inventory/headers.py FIELDS)
FIELD_NAMES = {"sku": "SKU", "name": "Nombre", "stock": "Unidades", "price": "Precio", "min_stock": "Stock mínimo",
               "category": "Categoría", "supplier": "Proveedor"}
REMEMBERED = 5  # previews a session can still apply


def _pending(request: Request) -> PendingUploads:
    return request.app.state.pending_uploads


def _stores(backend, user: User) -> list[dict]:
    return backend.get("petshop", "/tiendas/", token=user.token, params={"limit": 500})


@router.get("/tienda/importar")
def import_form(request: Request, user: ImportUser, backend: BackendDep):
    return render(request, "import.html", user=user, stores=_stores(backend, user))


@router.post("/tienda/importar", dependencies=[CsrfChecked])
def submit_preview(
    request: Request, user: ImportUser, backend: BackendDep, archivo: Annotated[UploadFile, File()],
    tienda: Annotated[int, Form(ge=1, le=2**31 - 1)],
):
    """Keep a copy of the file, then queue its dry run; the preview page follows the job."""
    def again(message: str, status_code: int):
        return render(request, "import.html", status_code=status_code, user=user, stores=_stores(backend, user),
                      chosen_store=tienda, error=message)

    if not archivo.filename:
        return again("Elige un archivo CSV, XLSX u ODS para importar.", 422)
    try:
        saved = _pending(request).save(archivo.file, file_name=archivo.filename, store_id=tienda, user_id=user.id,
                                       content_type=archivo.content_type or "application/octet-stream")
    except TooLarge:
        limit = request.app.state.settings.max_upload_mb
        return again(f"El archivo pasa de {limit} MB, el máximo que se puede subir. Divídelo en varios archivos.", 413)
    try:
        job = _upload(backend, user, saved, dry_run=True)
    except SessionExpired:
        _pending(request).discard(saved.key)
        raise
    except BackendError as exc:
        _pending(request).discard(saved.key)
        if exc.status_code >= 500:
            raise
        return again(exc.message, exc.status_code)
    previews = request.session.get("import_previews", {})
    previews[job["task_id"]] = saved.key
    request.session["import_previews"] = dict(list(previews.items())[-REMEMBERED:])
    return RedirectResponse(f"/tienda/importar/{job['task_id']}", status_code=303)


@router.post("/tienda/importar/{job_id}/aplicar", dependencies=[CsrfChecked])
def apply_import(request: Request, user: ImportUser, backend: BackendDep, job_id: JobId):
    """Import the previewed file for real, into the store it was previewed for."""
    previews = request.session.get("import_previews", {})
    saved = _pending(request).get(previews.get(job_id, ""), user_id=user.id)
    if saved is None:
        return render(request, "error.html", status_code=409, user=user, title="Vista previa caducada",
                      message="Ya no tenemos el archivo de esta vista previa (se aplicó ya o pasó más de un día). "
                              "Vuelve a subirlo desde «Importar inventario».")
    job = _upload(backend, user, saved, dry_run=False)
    _pending(request).discard(saved.key)
    previews.pop(job_id, None)
    request.session["import_previews"] = previews
    return RedirectResponse(f"/tienda/importar/{job['task_id']}", status_code=303)


@router.get("/tienda/importar/{job_id}")
def import_job(request: Request, user: ImportUser, backend: BackendDep, job_id: JobId):
    return render(request, "import_job.html", **_job_context(request, backend, user, job_id))


@router.get("/tienda/importar/{job_id}/estado")
def import_job_status(request: Request, user: ImportUser, backend: BackendDep, job_id: JobId):
    """The status block alone, for htmx's refresh (every second while the job is active)."""
    return render(request, "_import_status.html", **_job_context(request, backend, user, job_id))


@router.get("/tienda/importar/{job_id}/errores.csv")
def failed_rows(user: ImportUser, backend: BackendDep, job_id: JobId):
    """The failed rows as CSV, passed through from the petshop API."""
    upstream = backend.request("petshop", "GET", f"/inventario/task/{job_id}/errores.csv", token=user.token, raw=True)
    return Response(upstream.content, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="errores-{job_id[:8]}.csv"'})


def _upload(backend, user: User, saved, *, dry_run: bool) -> dict:
    with open(saved.path, "rb") as handle:
        return backend.request(
            "petshop", "POST", "/upload-inventario/", token=user.token,
            files={"file": (saved.file_name, handle, saved.content_type)},
            data={"store_id": str(saved.store_id), "dry_run": "true" if dry_run else "false"},
        )


def _job_context(request: Request, backend, user: User, job_id: str) -> dict:
    job = backend.get("petshop", f"/inventario/task/{job_id}", token=user.token)
    if job["kind"] != "inventory_import":
        raise BackendError("Ese trabajo no es una importación de inventario.", status_code=404)
    result = job.get("result") or {}
    timings = result.get("timings") or {}
    rate = None
    if result.get("total_processed") and timings.get("total"):
        rate = round(result["total_processed"] / max(timings["total"], 0.001))
    store_name = next((s["name"] for s in _stores(backend, user) if s["id"] == result.get("store_id")), None)
    return {
        "user": user, "job": job, "job_id": job_id, "result": result, "active": job["status"] in ACTIVE,
        "can_apply": job_id in request.session.get("import_previews", {}), "rate": rate, "store_name": store_name,
        "field_names": FIELD_NAMES,
    }
