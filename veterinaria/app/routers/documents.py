"""The seed's veterinaria job endpoints: clinical documents (OCR) and medical reports, with their status.

A document is followed at `/historias-clinicas/task/{id}` (the seed's route, which still answers
for any veterinaria job), a medical report at `/mascotas/{id}/reportes/{task_id}`, which answers
only for that pet's reports.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi.responses import FileResponse
from pydantic import BaseModel

from common import jobs
from common.enqueue import EnqueuerDep
from common.errors import BadInput, NotFound
from common.jobs import JobAccepted, JobRead, JobStatus
from common.security import CurrentUser
from common.types import DbId, SafeText
from common.web import SessionDep, SettingsDep, StorageDep
from veterinaria.app import documents
from veterinaria.app.deps import ClinicStaff, VisiblePet, get_visible_pet
from veterinaria.app.documents import DOCUMENT_TYPES

router = APIRouter()

ACCEPTED = {
    413: {"description": "File over the size limit"},
    422: {"description": "Not a PDF/JPEG/PNG/TIFF, or a malformed request"},
    429: {"description": "You already have the most unfinished jobs allowed (`job_quota_exceeded`); see Retry-After"},
    503: {"description": "The job queue is unreachable; nothing was queued"},
}
REPORT = "medical_report"


class DocumentTaskRead(BaseModel):
    """A document job in the seed's shape (its result's seed fields at top level once completed)."""

    task_id: str
    status: JobStatus
    progress: int
    kind: str
    error: str | None = None
    file_path: str | None = None
    document_type: str | None = None
    document_type_label: str | None = None  # "vacunación" for "vacunacion"
    extracted_text: str | None = None
    confidence: float | None = None
    result: dict[str, Any] | None = None


@router.post("/historias-clinicas/", response_model=JobAccepted, status_code=status.HTTP_202_ACCEPTED, responses=ACCEPTED, tags=["documents"])
def upload_document(
    file: Annotated[UploadFile, File(description="PDF (text or scanned), JPEG, PNG or TIFF: a scan or a phone photo")],
    user: ClinicStaff, session: SessionDep, enqueuer: EnqueuerDep, storage: StorageDep, settings: SettingsDep,
    mascota_id: Annotated[DbId | None, Form(description="The pet it belongs to; without it, the pet is matched from the text")] = None,
    document_type: Annotated[SafeText | None, Form(max_length=40, description=f"One of {', '.join(DOCUMENT_TYPES)}; detected when absent")] = None,
):
    """Queue a clinical document for reading (text layer or OCR); follow it at `GET /historias-clinicas/task/{task_id}`.

    The text, date, type, patient, vet and lab values are filed in the pet's history and become searchable.
    The same file uploaded twice points to the document already filed.
    """
    if document_type is not None and document_type not in DOCUMENT_TYPES:
        raise BadInput(f"El tipo de documento (document_type) debe ser uno de: {', '.join(DOCUMENT_TYPES)}.",
                       code="unknown_document_type")
    pet = get_visible_pet(session=session, pet_id=mascota_id, user=user) if mascota_id is not None else None
    job = documents.submit_document(
        session=session, enqueuer=enqueuer, storage=storage, settings=settings, upload=file, owner=user, pet=pet,
        document_type=document_type,
    )
    return JobAccepted(task_id=job.id, status_url=f"/historias-clinicas/task/{job.id}")


@router.get("/historias-clinicas/task/{task_id}", response_model=DocumentTaskRead, responses={404: {"description": "No such job, or not yours"}}, tags=["documents"])
def read_document_task(task_id: str, user: CurrentUser, session: SessionDep):
    """Status, progress and result of a document's reading (the seed's route: it shows any veterinaria job)."""
    job = jobs.get_visible(session=session, job_id=task_id, user=user, service="veterinaria")
    result = job.result or {}
    return DocumentTaskRead(
        task_id=job.id, status=job.status, progress=job.progress, kind=job.kind, error=job.error, result=job.result,
        file_path=result.get("file_path"), document_type=result.get("document_type"),
        document_type_label=result.get("document_type_label"),
        extracted_text=result.get("extracted_text"), confidence=result.get("confidence"),
    )


@router.post("/mascotas/{mascota_id}/reportes/", response_model=JobAccepted, status_code=status.HTTP_202_ACCEPTED, responses={404: {"description": "No such pet"}, 429: ACCEPTED[429], 503: ACCEPTED[503]}, tags=["reports"])
def request_medical_report(pet: VisiblePet, user: CurrentUser, session: SessionDep, enqueuer: EnqueuerDep):
    """Queue a consolidated medical report (PDF): consultations, documents, lab values over time, weight chart.

    Follow it at `GET /mascotas/{mascota_id}/reportes/{task_id}`.
    """
    job = enqueuer.submit(session=session, kind=REPORT, task="generate_medical_report", owner=user,
                          params={"pet_id": pet.id})
    return JobAccepted(task_id=job.id, status_url=f"/mascotas/{pet.id}/reportes/{job.id}")


@router.get("/mascotas/{mascota_id}/reportes/{task_id}", response_model=JobRead, responses={404: {"description": "No such report of this pet, or not yours"}}, tags=["reports"])
def read_medical_report(task_id: str, pet: VisiblePet, user: CurrentUser, session: SessionDep):
    """Status of a medical report; once completed, `result.pdf_url` is where to download it."""
    return documents.get_report_job(session=session, task_id=task_id, pet=pet, user=user)


@router.get("/mascotas/{mascota_id}/reportes/{task_id}/pdf", response_class=FileResponse, tags=["reports"])
def download_medical_report(task_id: str, pet: VisiblePet, user: CurrentUser, session: SessionDep, storage: StorageDep):
    """The finished report as PDF."""
    job = documents.get_report_job(session=session, task_id=task_id, pet=pet, user=user)
    key = (job.result or {}).get("pdf_key")
    if not key:
        raise NotFound("Este informe todavía no está listo: consulta su estado y vuelve a intentarlo cuando esté completado.",
                       code="report_not_ready")
    return FileResponse(storage.local_path(key), media_type="application/pdf", filename=f"informe-{pet.name}.pdf")
