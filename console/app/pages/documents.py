"""Documentos: upload clinical documents (one or many, each with its own progress), follow each reading, and see
the result — the page image beside the extracted text, the fields found, the pet it was attached to or the
candidates to choose from — and let a vet correct a field or the text (veterinaria `PATCH /documentos/{id}`)
or one lab value (`PATCH /documentos/{id}/analiticas/{value_id}`).

With JavaScript (`/static/documents-upload.js`) each file is sent on its own XHR (upload progress),
then its job is polled once a second as JSON; without it the form posts every file at once and
the answer lists each file's job, whose page refreshes itself with htmx.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response

from console.app.backend import Backend, BackendError, SessionExpired
from console.app.live import status_events
from console.app.pages.clinic import ACTIVE, TYPE_NAMES
from console.app.rendering import render
from console.app.session import BackendDep, CsrfChecked, User, require_page

router = APIRouter()
UploadUser = Annotated[User, Depends(require_page("documentos"))]
ReaderUser = Annotated[User, Depends(require_page("mascotas"))]
DocumentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
JobId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{8,64}$")]
MAX_FILES = 20
PAGES_SHOWN = 20
CANDIDATES = 10
STAFF = ("admin", "veterinario")


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@router.get("/documentos/subir")
def upload_form(request: Request, user: UploadUser, backend: BackendDep,
                mascota: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None):
    pet = backend.get("veterinaria", f"/mascotas/{mascota}", token=user.token) if mascota else None
    return render(request, "documents_upload.html", user=user, pet=pet)


def _send(backend: Backend, user: User, upload: UploadFile, pet_id: int | None) -> dict[str, Any]:
    """One file to veterinaria; a refusal (type, size, quota) becomes {"error": its Spanish message}."""
    data = {"mascota_id": str(pet_id)} if pet_id else {}
    try:
        job = backend.request("veterinaria", "POST", "/historias-clinicas/", token=user.token, data=data,
                              files={"file": (upload.filename, upload.file, upload.content_type or "application/octet-stream")})
    except SessionExpired:
        raise
    except BackendError as exc:
        if exc.status_code >= 500 and exc.status_code != 503:
            raise
        return {"name": upload.filename, "error": exc.message, "status_code": exc.status_code}
    return {"name": upload.filename, "task_id": job["task_id"], "url": f"/documentos/trabajos/{job['task_id']}",
            "status_url": f"/documentos/trabajos/{job['task_id']}/estado.json"}


@router.post("/documentos/subir", dependencies=[CsrfChecked])
def upload_documents(
    request: Request, user: UploadUser, backend: BackendDep, archivos: Annotated[list[UploadFile], File()],
    mascota_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
):
    """Send each file to veterinaria for reading; JSON for the page's script (one file a request), else a page."""
    files = [f for f in archivos if f.filename]
    if not files or len(files) > MAX_FILES:
        message = ("Elige al menos un archivo (PDF o una foto: JPEG, PNG, TIFF, HEIC, WebP, BMP o GIF)." if not files
                   else f"Sube como mucho {MAX_FILES} archivos a la vez.")
        if _wants_json(request):
            return JSONResponse({"error": message}, status_code=422)
        pet = backend.get("veterinaria", f"/mascotas/{mascota_id}", token=user.token) if mascota_id else None
        return render(request, "documents_upload.html", status_code=422, user=user, pet=pet, error=message)
    sent = [_send(backend, user, f, mascota_id) for f in files]
    if _wants_json(request):
        first = sent[0]
        return JSONResponse(first, status_code=first.get("status_code", 202) if "error" in first else 202)
    return render(request, "documents_sent.html", user=user, sent=sent)


def _job(backend: Backend, user: User, job_id: str) -> dict[str, Any]:
    job = backend.get("veterinaria", f"/historias-clinicas/task/{job_id}", token=user.token)
    if job["kind"] != "medical_document":
        raise BackendError("Ese trabajo no es la lectura de un documento.", status_code=404)
    result = job.get("result") or {}
    return {"job": job, "job_id": job_id, "result": result, "active": job["status"] in ACTIVE,
            "document_id": result.get("document_id")}


@router.get("/documentos/trabajos/{job_id}")
def document_job(request: Request, user: UploadUser, backend: BackendDep, job_id: JobId):
    return render(request, "document_job.html", user=user, **_job(backend, user, job_id))


@router.get("/documentos/trabajos/{job_id}/estado")
def document_job_status(request: Request, user: UploadUser, backend: BackendDep, job_id: JobId):
    """The status block alone, for htmx's refresh (every second while the document is being read)."""
    return render(request, "_document_job_status.html", user=user, **_job(backend, user, job_id))


@router.get("/documentos/trabajos/{job_id}/eventos")
async def document_job_events(request: Request, user: UploadUser, backend: BackendDep, job_id: JobId):
    """The status block pushed as Server-Sent Events whenever it changes, until the document has been read."""
    return await status_events(request, "_document_job_status.html", lambda: {"user": user, **_job(backend, user, job_id)},
                         page=f"/documentos/trabajos/{job_id}")


@router.get("/documentos/trabajos/{job_id}/estado.json")
def document_job_json(user: UploadUser, backend: BackendDep, job_id: JobId):
    """What the upload page's script polls (at most once a second): status, progress, and where the result is."""
    found = _job(backend, user, job_id)
    job, result = found["job"], found["result"]
    return {
        "status": job["status"], "progress": job["progress"], "active": found["active"], "error": job.get("error"),
        "document_url": f"/documentos/{result['document_id']}" if result.get("document_id") else None,
        "attached": bool(result.get("mascota_id")), "candidates": len(result.get("pet_candidates") or []),
        "duplicate": bool(result.get("duplicate")),
    }


@router.get("/documentos/{document_id}")
def document_page(
    request: Request, user: ReaderUser, backend: BackendDep, document_id: DocumentId,
    buscar_mascota: Annotated[str, Query(max_length=100)] = "",
):
    """What was read from a document beside its pages; a vet corrects it or attaches it to a pet here."""
    return render(request, "document.html", **_document_context(backend, user, document_id, buscar_mascota.strip()))


def _document_context(backend: Backend, user: User, document_id: int, pet_query: str = "") -> dict[str, Any]:
    document = backend.get("veterinaria", f"/documentos/{document_id}", token=user.token)
    fields = document.get("fields") or {}
    pet = backend.get("veterinaria", f"/mascotas/{document['pet_id']}", token=user.token) if document["pet_id"] else None
    candidates: list[dict] = []
    staff = user.role in STAFF
    query = pet_query or (fields.get("patient_name") or "")
    if staff and (pet is None or pet_query) and query:
        candidates = backend.get("veterinaria", "/mascotas/", token=user.token, params={"q": query, "limit": CANDIDATES})
    return {
        "user": user, "document": document, "fields": fields, "pet": pet, "candidates": candidates,
        "pet_query": query, "staff": staff, "type_names": TYPE_NAMES,
        "pages": range(1, min(document["pages"], PAGES_SHOWN) + 1) if document["status"] == "processed" else [],
    }


@router.get("/documentos/{document_id}/paginas/{number}")
def document_page_image(user: ReaderUser, backend: BackendDep, document_id: DocumentId,
                        number: Annotated[int, Path(ge=1, le=10_000)]):
    """A page as PNG, passed through from veterinaria (which checks the viewer may see the document)."""
    upstream = backend.request("veterinaria", "GET", f"/documentos/{document_id}/paginas/{number}", token=user.token, raw=True)
    return Response(upstream.content, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


def _correction(document: dict, *, tipo: str, fecha: str, paciente: str, veterinario: str, texto: str) -> dict[str, Any]:
    """The fields the form changed, as the API names them."""
    fields = document.get("fields") or {}
    changes: dict[str, Any] = {}
    if tipo and tipo != document["document_type"]:
        changes["document_type"] = tipo
    if fecha != (document["document_date"] or ""):
        changes["document_date"] = fecha or None
    if paciente.strip() != (fields.get("patient_name") or ""):
        changes["patient_name"] = paciente.strip()
    if veterinario.strip() != (fields.get("vet_name") or ""):
        changes["vet_name"] = veterinario.strip()
    if texto.replace("\r\n", "\n").strip() != document["extracted_text"].strip():
        changes["extracted_text"] = texto.replace("\r\n", "\n")
    return changes


@router.post("/documentos/{document_id}/corregir", dependencies=[CsrfChecked])
def correct_document(
    request: Request, user: UploadUser, backend: BackendDep, document_id: DocumentId,
    tipo: Annotated[str, Form(max_length=20)] = "", fecha: Annotated[str, Form(max_length=10)] = "",
    paciente: Annotated[str, Form(max_length=100)] = "", veterinario: Annotated[str, Form(max_length=200)] = "",
    texto: Annotated[str, Form(max_length=500_000)] = "",
):
    """Send what the vet changed; search and reports use it from then on."""
    document = backend.get("veterinaria", f"/documentos/{document_id}", token=user.token)
    if fecha:
        try:
            date.fromisoformat(fecha)
        except ValueError:
            return _again(request, backend, user, document_id, "La fecha debe tener la forma día/mes/año.")
    changes = _correction(document, tipo=tipo, fecha=fecha, paciente=paciente, veterinario=veterinario, texto=texto)
    if not changes:
        request.session["flash"] = "No has cambiado nada: el documento sigue igual."
        return RedirectResponse(f"/documentos/{document_id}", status_code=303)
    try:
        backend.request("veterinaria", "PATCH", f"/documentos/{document_id}", token=user.token, json=changes)
    except BackendError as exc:
        if isinstance(exc, SessionExpired) or exc.status_code >= 500:
            raise
        reasons = "; ".join(e["message"] for e in exc.field_errors) or exc.message
        return _again(request, backend, user, document_id, reasons)
    request.session["flash"] = "Corrección guardada: la búsqueda y los informes usan ya el texto corregido."
    return RedirectResponse(f"/documentos/{document_id}", status_code=303)


def _again(request: Request, backend: Backend, user: User, document_id: int, message: str, *,
           lab_value_id: int | None = None):
    errors = {"lab_error": message, "lab_error_id": lab_value_id} if lab_value_id else {"correction_error": message}
    return render(request, "document.html", status_code=422, **errors, **_document_context(backend, user, document_id))


def parse_number(text: str) -> float | None:
    """A number as a vet writes it: "310,5", "310.5", "1.234,5" or "1 234"; None when it is not one."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        number = float(cleaned)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


@router.post("/documentos/{document_id}/analiticas/{lab_value_id}/corregir", dependencies=[CsrfChecked])
def correct_lab_value(
    request: Request, user: UploadUser, backend: BackendDep, document_id: DocumentId, lab_value_id: DocumentId,
    nombre: Annotated[str, Form(max_length=100)] = "", valor: Annotated[str, Form(max_length=40)] = "",
    unidad: Annotated[str, Form(max_length=30)] = "",
):
    """Send the lab value's changed name, number or unit; search, the pet's charts and reports use it from then on."""
    document = backend.get("veterinaria", f"/documentos/{document_id}", token=user.token)
    current = next((v for v in document.get("lab_values") or [] if v["id"] == lab_value_id), None)
    if current is None:
        raise BackendError("Este documento no tiene ese valor de análisis.", status_code=404)
    changes: dict[str, Any] = {}
    if nombre.strip() and nombre.strip() != current["name"]:
        changes["name"] = nombre.strip()
    if valor.strip():
        number = parse_number(valor)
        if number is None:
            return _again(request, backend, user, document_id, f"«{valor.strip()}» no es un número: escribe por ejemplo 12,5.",
                          lab_value_id=lab_value_id)
        if number != current["value"]:
            changes["value"] = number
    if unidad.strip() != current["unit"]:
        changes["unit"] = unidad.strip()
    if not changes:
        request.session["flash"] = f"No has cambiado nada: {current['name']} sigue igual."
        return RedirectResponse(f"/documentos/{document_id}#analiticas", status_code=303)
    try:
        backend.request("veterinaria", "PATCH", f"/documentos/{document_id}/analiticas/{lab_value_id}",
                        token=user.token, json=changes)
    except BackendError as exc:
        if isinstance(exc, SessionExpired) or exc.status_code >= 500:
            raise
        reasons = "; ".join(e["message"] for e in exc.field_errors) or exc.message
        return _again(request, backend, user, document_id, reasons, lab_value_id=lab_value_id)
    request.session["flash"] = (f"Valor corregido: la búsqueda, las gráficas y los informes usan ya "
                                f"{changes.get('name', current['name'])}.")
    return RedirectResponse(f"/documentos/{document_id}#analiticas", status_code=303)


@router.post("/documentos/{document_id}/mascota", dependencies=[CsrfChecked])
def attach_document(request: Request, user: UploadUser, backend: BackendDep, document_id: DocumentId,
                    mascota_id: Annotated[int, Form(ge=1, le=2**31 - 1)]):
    """Attach the document (and its lab values) to the pet the vet chose."""
    pet = backend.get("veterinaria", f"/mascotas/{mascota_id}", token=user.token)
    backend.request("veterinaria", "PATCH", f"/documentos/{document_id}", token=user.token, json={"pet_id": mascota_id})
    request.session["flash"] = f"Documento asignado a {pet['name']}."
    return RedirectResponse(f"/documentos/{document_id}", status_code=303)
