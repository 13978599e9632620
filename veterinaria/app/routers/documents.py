"""The seed's veterinaria job endpoints: clinical documents (OCR) and medical reports, with their status.

A document is followed at `/historias-clinicas/task/{id}` (the seed's route, which still answers
for any veterinaria job), a medical report at `/mascotas/{id}/reportes/{task_id}`, which answers
only for that pet's reports.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, UploadFile, status
from fastapi.responses import Response, StreamingResponse

from common.downloads import file_download
from common.enqueue import EnqueuerDep
from common.jobs import JobAccepted, JobRead
from common.security import CurrentUser
from common.types import DbId, Offset, SafeText
from common.web import InSession, SessionDep, SettingsDep, StorageDep
from veterinaria.app import jobs
from veterinaria.app.deps import ClinicStaff, EditableDocument, VisibleDocument, VisiblePet
from veterinaria.app.documents import corrections, preview
from veterinaria.app.documents.read.fields import DOCUMENT_TYPES
from veterinaria.app.schemas import (
    DocumentRead,
    DocumentTaskRead,
    DocumentUpdate,
    LabValueRead,
    LabValueUpdate,
    MedicalReportRead,
)

router = APIRouter()

ACCEPTED = {
    413: {"description": "File over the size limit"},
    422: {"description": "Not a PDF/JPEG/PNG/TIFF, or a malformed request"},
    429: {"description": "You already have the most unfinished jobs allowed (`job_quota_exceeded`); see Retry-After"},
    503: {"description": "The job queue is unreachable; nothing was queued"},
}


@router.post("/historias-clinicas/", response_model=JobAccepted, status_code=status.HTTP_202_ACCEPTED, responses=ACCEPTED, tags=["documents"])
async def upload_document(
    file: Annotated[UploadFile, File(description="PDF (text or scanned) or an image (JPEG, PNG, TIFF, HEIC/HEIF, WebP, BMP, GIF): a scan, a fax or a phone photo")],
    user: ClinicStaff, in_session: InSession, enqueuer: EnqueuerDep, storage: StorageDep, settings: SettingsDep,
    mascota_id: Annotated[DbId | None, Form(description="The pet it belongs to; without it, the pet is matched from the text")] = None,
    document_type: Annotated[SafeText | None, Form(max_length=40, description=f"One of {', '.join(DOCUMENT_TYPES)}; detected when absent")] = None,
):
    """Queue a clinical document for reading (text layer or OCR); follow it at `GET /historias-clinicas/task/{task_id}`.

    The text, date, type, patient, vet and lab values are filed in the pet's history and become searchable.
    The same file uploaded twice points to the document already filed.
    """
    job = await in_session(
        jobs.submit_document, enqueuer=enqueuer, storage=storage, settings=settings, upload=file, owner=user,
        mascota_id=mascota_id, document_type=document_type,
    )
    return JobAccepted(task_id=job.id, status_url=f"/historias-clinicas/task/{job.id}")


@router.get("/historias-clinicas/task/{task_id}", response_model=DocumentTaskRead, responses={404: {"description": "No such job, or not yours"}}, tags=["documents"])
async def read_document_task(task_id: str, user: CurrentUser, in_session: InSession):
    """Status, progress and result of a document's reading (the seed's route: it shows any veterinaria job)."""
    return await in_session(jobs.task_status, task_id=task_id, user=user)


@router.post("/mascotas/{mascota_id}/reportes/", response_model=JobAccepted, status_code=status.HTTP_202_ACCEPTED, responses={404: {"description": "No such pet"}, 429: ACCEPTED[429], 503: ACCEPTED[503]}, tags=["reports"])
def request_medical_report(pet: VisiblePet, user: CurrentUser, session: SessionDep, enqueuer: EnqueuerDep):
    """Queue a consolidated medical report (PDF): consultations, documents, lab values over time, weight chart.

    Follow it at `GET /mascotas/{mascota_id}/reportes/{task_id}`.
    """
    job = jobs.submit_medical_report(session=session, enqueuer=enqueuer, pet=pet, owner=user)
    return JobAccepted(task_id=job.id, status_url=f"/mascotas/{pet.id}/reportes/{job.id}")


@router.get("/mascotas/{mascota_id}/reportes/", response_model=list[MedicalReportRead], tags=["reports"],
            responses={404: {"description": "No such pet, or not one of your pets"}})
def list_medical_reports(
    pet: VisiblePet, session: SessionDep, limit: Annotated[int, Query(ge=1, le=100)] = 50, offset: Offset = 0,
):
    """The pet's finished medical reports, newest first, whoever asked for them: its owner sees the vet's too."""
    return jobs.list_reports(session=session, pet=pet, limit=limit, offset=offset)


@router.get("/mascotas/{mascota_id}/reportes/{task_id}", response_model=JobRead, responses={404: {"description": "No such report of this pet, or not yours"}}, tags=["reports"])
def read_medical_report(task_id: str, pet: VisiblePet, user: CurrentUser, session: SessionDep):
    """Status of a medical report; once completed, `result.pdf_url` is where to download it."""
    return jobs.get_report_job(session=session, task_id=task_id, pet=pet, user=user)


@router.get("/mascotas/{mascota_id}/reportes/{task_id}/pdf", response_class=StreamingResponse, tags=["reports"])
def download_medical_report(task_id: str, pet: VisiblePet, user: CurrentUser, session: SessionDep, storage: StorageDep):
    """The finished report as PDF, to whoever may see the pet (a report still being made: to whoever asked for it)."""
    key = jobs.report_file(session=session, task_id=task_id, pet=pet, user=user)
    return file_download(storage=storage, key=key, media_type="application/pdf", filename=f"informe-{pet.name}.pdf")


@router.patch("/documentos/{document_id}", response_model=DocumentRead, tags=["documents"], responses={
    403: {"description": "Only vets and admins may correct"}, 404: {"description": "No such document, or no such pet"},
    409: {"description": "The document has not been read (yet)"}, 422: {"description": "Nothing to correct, or a bad value"}})
def correct_document(document_in: DocumentUpdate, document: EditableDocument, vet: ClinicStaff, session: SessionDep):
    """Correct what was read from a document (type, date, patient, vet, the text) or attach it to a pet.

    Only the fields sent change. The first correction keeps the reading's own text and fields in
    `ocr_text` / `ocr_fields`; from then on search and medical reports use the corrected ones.
    """
    return corrections.correct_document(session=session, document=document, document_in=document_in, vet=vet)


@router.patch("/documentos/{document_id}/analiticas/{lab_value_id}", response_model=LabValueRead, tags=["documents"], responses={
    403: {"description": "Only vets and admins may correct"}, 404: {"description": "No such document, or no such value in it"},
    409: {"description": "The document has not been read (yet)"}, 422: {"description": "Nothing to correct, or a bad value"}})
def correct_lab_value(lab_in: LabValueUpdate, document: EditableDocument, vet: ClinicStaff, session: SessionDep,
                      lab_value_id: DbId):
    """Correct one lab value read from a document: its name, number or unit (only those sent change).

    The first correction keeps the reading's own in `ocr_name` / `ocr_value` / `ocr_raw_value` / `ocr_unit`;
    from then on search, the pet's series (`/analiticas/`) and medical reports use the corrected value.
    """
    return corrections.correct_lab_value(session=session, document=document, lab_value_id=lab_value_id,
                                         lab_in=lab_in, vet=vet)


@router.get("/documentos/{document_id}/paginas/{number}", response_class=Response, tags=["documents"], responses={
    200: {"content": {"image/png": {}}, "description": "The page, its longer side at most 1400 px"},
    404: {"description": "No such document or page, or not one of your pets'"}})
def read_document_page(document: VisibleDocument, storage: StorageDep, number: Annotated[int, Path(ge=1, le=10_000)]):
    """One page of the document as a PNG image, to show beside its text (seen by whoever may see the document)."""
    with storage.local_copy(document.file_key) as path:
        png = preview.page_png(document=document, path=path, number=number)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
