"""Importar inventario: pick a store and a file, see the dry run's preview, then apply it and watch it run."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from console.app.backend import BackendError, SessionExpired
from console.app.live import status_events
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
LETTER = r"^[A-Z]{0,3}$"  # a column chosen in the mapping form ("" = not in the file)
Column = Annotated[str, Form(pattern=LETTER)]


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
    _remember(request, job["task_id"], saved.key, None)
    return RedirectResponse(f"/tienda/importar/{job['task_id']}", status_code=303)


@router.post("/tienda/importar/{job_id}/columnas", dependencies=[CsrfChecked])
def remap_columns(
    request: Request, user: ImportUser, backend: BackendDep, job_id: JobId, col_sku: Column = "", col_name: Column = "",
    col_stock: Column = "", col_price: Column = "", col_min_stock: Column = "", col_category: Column = "",
    col_supplier: Column = "",
):
    """Preview the same kept file again with the columns the user chose (by letter); «Aplicar» then uses them."""
    saved = _pending(request).get(request.session.get("import_previews", {}).get(job_id, ""), user_id=user.id)
    if saved is None:
        return _expired(request, user)
    chosen = {"sku": col_sku, "name": col_name, "stock": col_stock, "price": col_price, "min_stock": col_min_stock,
              "category": col_category, "supplier": col_supplier}
    column_map = {field: letter for field, letter in chosen.items() if letter}
    try:
        job = _upload(backend, user, saved, dry_run=True, column_map=column_map)
    except BackendError as exc:
        if isinstance(exc, SessionExpired) or exc.status_code >= 500:
            raise
        return render(request, "error.html", status_code=exc.status_code, user=user, title="Columnas no válidas",
                      message=f"{exc.message} Vuelve atrás y corrige la asignación.")
    _remember(request, job["task_id"], saved.key, column_map)
    return RedirectResponse(f"/tienda/importar/{job['task_id']}", status_code=303)


def _remember(request: Request, job_id: str, key: str, column_map: dict | None) -> None:
    """The session's last few previews: job -> kept file, and job -> the column map it was run with."""
    previews = request.session.get("import_previews", {})
    previews[job_id] = key
    previews = dict(list(previews.items())[-REMEMBERED:])
    maps = {k: v for k, v in request.session.get("import_maps", {}).items() if k in previews}
    if column_map:
        maps[job_id] = column_map
    request.session["import_previews"], request.session["import_maps"] = previews, maps


def _expired(request: Request, user: User):
    return render(request, "error.html", status_code=409, user=user, title="Vista previa caducada",
                  message="Ya no tenemos el archivo de esta vista previa (se aplicó ya o pasó más de un día). "
                          "Vuelve a subirlo desde «Importar inventario».")


@router.post("/tienda/importar/{job_id}/aplicar", dependencies=[CsrfChecked])
def apply_import(request: Request, user: ImportUser, backend: BackendDep, job_id: JobId):
    """Import the previewed file for real, into the store it was previewed for."""
    previews = request.session.get("import_previews", {})
    saved = _pending(request).get(previews.get(job_id, ""), user_id=user.id)
    if saved is None:
        return _expired(request, user)
    maps = request.session.get("import_maps", {})
    preview = backend.get("petshop", f"/inventario/task/{job_id}", token=user.token)
    job = _upload(backend, user, saved, dry_run=False, column_map=maps.get(job_id))
    # the preview's row count turns the running job's percentage into rows done and rows per second
    rows = dict(list(request.session.get("import_rows", {}).items())[-REMEMBERED:])
    rows[job["task_id"]] = int((preview.get("result") or {}).get("total_processed") or 0)
    request.session["import_rows"] = rows
    _pending(request).discard(saved.key)
    previews.pop(job_id, None)
    maps.pop(job_id, None)
    request.session["import_previews"], request.session["import_maps"] = previews, maps
    return RedirectResponse(f"/tienda/importar/{job['task_id']}", status_code=303)


@router.get("/tienda/importar/{job_id}")
def import_job(request: Request, user: ImportUser, backend: BackendDep, job_id: JobId):
    return render(request, "import_job.html", **_job_context(request, backend, user, job_id))


@router.get("/tienda/importar/{job_id}/estado")
def import_job_status(request: Request, user: ImportUser, backend: BackendDep, job_id: JobId):
    """The status block alone, for htmx's refresh (every second while the job is active)."""
    return render(request, "_import_status.html", **_job_context(request, backend, user, job_id))


@router.get("/tienda/importar/{job_id}/eventos")
async def import_job_events(request: Request, user: ImportUser, backend: BackendDep, job_id: JobId):
    """The status block pushed as Server-Sent Events whenever it changes, until the import is over."""
    return await status_events(request, "_import_status.html", lambda: _job_context(request, backend, user, job_id),
                         page=f"/tienda/importar/{job_id}")


@router.get("/tienda/importar/{job_id}/errores.csv")
def failed_rows(user: ImportUser, backend: BackendDep, job_id: JobId):
    """The failed rows as CSV, passed through from the petshop API."""
    upstream = backend.request("petshop", "GET", f"/inventario/task/{job_id}/errores.csv", token=user.token, raw=True)
    return Response(upstream.content, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="errores-{job_id[:8]}.csv"'})


def _upload(backend, user: User, saved, *, dry_run: bool, column_map: dict | None = None) -> dict:
    data = {"store_id": str(saved.store_id), "dry_run": "true" if dry_run else "false"}
    if column_map:
        data["column_map"] = json.dumps(column_map)
    with open(saved.path, "rb") as handle:
        return backend.request(
            "petshop", "POST", "/upload-inventario/", token=user.token,
            files={"file": (saved.file_name, handle, saved.content_type)}, data=data,
        )


def _letter(index: int) -> str:
    letters, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _mapping_form(result: dict) -> dict | None:
    """The «Asignar columnas» form's options (letter, text) and each field's current column, if the result has columns."""
    labels = result.get("file_columns")
    if not labels:
        return None
    options = [(_letter(i), f"{_letter(i)} · {label}" if label else f"Columna {_letter(i)} (sin título)")
               for i, label in enumerate(labels)]
    selected = dict(result.get("column_letters") or {})
    for field, label in (result.get("columns") or {}).items():  # a failed job has the header texts only
        if field not in selected and label in labels:
            selected[field] = _letter(labels.index(label))
    return {"options": options, "selected": selected, "missing": result.get("missing_fields") or []}


def _live_rate(backend, user: User, job_id: str, job: dict, total_rows: int | None) -> dict | None:
    """While an import runs: rows done so far and rows per second (None once it is over or without a preview)."""
    if job["status"] not in ACTIVE or not total_rows:
        return None
    started = backend.get("petshop", f"/jobs/{job_id}", token=user.token).get("started_at")
    return live_rate(progress=job["progress"], total_rows=total_rows,
                     started_at=datetime.fromisoformat(started) if started else None, now=datetime.now(UTC))


def live_rate(*, progress: int, total_rows: int, started_at: datetime | None, now: datetime) -> dict:
    """The job's percentage of the preview's row count as rows done, and those over the time since it started."""
    done = total_rows * progress // 100
    if started_at is None or not done:
        return {"done": done, "total": total_rows, "rate": None}
    elapsed = (now - (started_at if started_at.tzinfo else started_at.replace(tzinfo=UTC))).total_seconds()
    return {"done": done, "total": total_rows, "rate": round(done / elapsed) if elapsed >= 0.5 else None}


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
    live = _live_rate(backend, user, job_id, job, request.session.get("import_rows", {}).get(job_id))
    return {
        "live": live,
        "user": user, "job": job, "job_id": job_id, "result": result, "active": job["status"] in ACTIVE,
        "can_apply": job_id in request.session.get("import_previews", {}), "rate": rate, "store_name": store_name,
        "field_names": FIELD_NAMES, "mapping": _mapping_form(result),
    }
