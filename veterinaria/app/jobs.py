"""Veterinaria jobs as the API sees them: submit (check what can be checked now, store the file, queue),
status in the seed's shape for every kind, and the files a finished job produced.

A clinical document is recorded on upload, keyed by the file's SHA-256: the same file uploaded
twice points to the same document. The work itself runs on a worker: `documents.pipeline`
(read the document, file what it says) and `reports.pipeline` (the medical report's PDF).
"""

from __future__ import annotations

from fastapi import UploadFile
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common import jobs
from common.config import Settings
from common.enqueue import Enqueuer
from common.errors import BadInput, NotFound, ServiceUnavailable
from common.job_files import INPUT_FILES
from common.security import Principal
from common.storage import Storage
from common.uploads import store_upload
from veterinaria.app import service
from veterinaria.app.documents.read import DocumentError, sniff_document
from veterinaria.app.documents.read.fields import DOCUMENT_TYPES
from veterinaria.app.models import Document, MedicalReport, Pet
from veterinaria.app.schemas import DocumentTaskRead

SERVICE = "veterinaria"
DOCUMENT, REPORT = "medical_document", "medical_report"


def submit_document(
    *, session: Session, enqueuer: Enqueuer, storage: Storage, settings: Settings, upload: UploadFile,
    owner: Principal, mascota_id: int | None, document_type: str | None,
) -> jobs.Job:
    """Check the type and the pet, store the upload, record (or find) its Document, and queue it for reading.

    A file that is not kept (the same file again, or a document that could not be queued) is deleted at once.
    """
    if document_type is not None and document_type not in DOCUMENT_TYPES:
        raise BadInput(f"El tipo de documento (document_type) debe ser uno de: {', '.join(DOCUMENT_TYPES)}.",
                       code="unknown_document_type")
    pet = service.get_pet_or_404(session=session, pet_id=mascota_id, viewer=owner) if mascota_id is not None else None
    enqueuer.ensure_capacity(session=session, owner=owner, upload_bytes=upload.size)  # before storing up to MAX_UPLOAD_MB
    stored, kind = store_upload(
        storage=storage, upload=upload, prefix="documents", max_bytes=settings.max_upload_bytes,
        sniff=sniff_document, refusals=(DocumentError,),
    )
    document, duplicate = _find_or_create(session, stored, kind, upload.filename or "", owner, pet, document_type)
    if duplicate:
        storage.delete(stored.key)  # keep one copy
    # the file stays with the document (it is the clinical record); listed so that a retry can tell it is gone
    params = {"document_id": document.id, "duplicate": duplicate, "document_type": document_type,
              "mascota_id": pet.id if pet else None, INPUT_FILES: [document.file_key]}
    try:
        return enqueuer.submit(session=session, kind=DOCUMENT, task="process_medical_document",
                               owner=owner, params=params)
    except ServiceUnavailable:
        if not duplicate and document.status == "pending":
            document.status = "failed"  # the same file uploaded again brings it back (_find_or_create)
            session.commit()
            storage.delete(stored.key)
        raise
    except BaseException:  # refused (quota): the request's transaction, and the new Document with it, rolls back
        if not duplicate:
            storage.delete(stored.key)
        raise


def submit_medical_report(*, session: Session, enqueuer: Enqueuer, pet: Pet, owner: Principal) -> jobs.Job:
    """Queue the consolidated medical report (PDF) of one pet."""
    return enqueuer.submit(session=session, kind=REPORT, task="generate_medical_report", owner=owner,
                           params={"pet_id": pet.id})


def task_status(*, session: Session, task_id: str, user: Principal) -> DocumentTaskRead:
    """Any veterinaria job in the seed's document shape: its result's seed fields at top level."""
    job = jobs.get_visible(session=session, job_id=task_id, user=user, service=SERVICE)
    result = job.result or {}
    return DocumentTaskRead(
        task_id=job.id, status=job.status, progress=job.progress, kind=job.kind, error=job.error, result=job.result,
        file_path=result.get("file_path"), document_type=result.get("document_type"),
        document_type_label=result.get("document_type_label"),
        extracted_text=result.get("extracted_text"), confidence=result.get("confidence"),
    )


def get_report_job(*, session: Session, task_id: str, pet: Pet, user: Principal) -> jobs.Job:
    """A medical-report job of this pet that the caller may see; anything else looks absent (404)."""
    job = jobs.get_visible(session=session, job_id=task_id, user=user, service=SERVICE, kinds=(REPORT,))
    if job.params.get("pet_id") != pet.id:
        raise NotFound(f"Esta mascota no tiene ningún informe con el identificador {task_id}.", code="job_not_found")
    return job


def list_reports(*, session: Session, pet: Pet, limit: int = 50, offset: int = 0) -> list[MedicalReport]:
    """The pet's finished medical reports, newest first, whoever asked for them (the caller may see the pet)."""
    return list(session.scalars(
        select(MedicalReport).where(MedicalReport.pet_id == pet.id)
        .order_by(MedicalReport.created_at.desc(), MedicalReport.id).limit(limit).offset(offset)
    ))


def report_file(*, session: Session, task_id: str, pet: Pet, user: Principal) -> str:
    """The storage key of a finished medical report's PDF: any report of this pet (the caller may see the pet).

    An unfinished one is found through its job, which only whoever asked for it (or an admin) sees.
    """
    report = session.get(MedicalReport, task_id)
    if report is not None and report.pet_id == pet.id:
        return report.pdf_key
    job = get_report_job(session=session, task_id=task_id, pet=pet, user=user)
    key = (job.result or {}).get("pdf_key")
    if not key:
        raise NotFound("Este informe todavía no está listo: consulta su estado y vuelve a intentarlo cuando esté completado.",
                       code="report_not_ready")
    return key


def _find_or_create(session, stored, kind, file_name, owner, pet, document_type) -> tuple[Document, bool]:
    existing = session.scalar(select(Document).where(Document.sha256 == stored.sha256))
    if existing is not None and existing.status == "failed":
        # its file was deleted when it failed: this upload takes its place and is read again
        existing.file_key, existing.file_name, existing.file_kind = stored.key, file_name[:300], kind
        existing.status = "pending"
        existing.pet_id = pet.id if pet else existing.pet_id
        return existing, False
    if existing is not None:
        return existing, True
    document = Document(
        pet_id=pet.id if pet else None, file_key=stored.key, file_name=file_name[:300], file_kind=kind,
        size=stored.size, sha256=stored.sha256, document_type=document_type or "otro", uploaded_by=owner.id,
    )
    session.add(document)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same file, uploaded at the same moment by someone else
        return session.scalar(select(Document).where(Document.sha256 == stored.sha256)), True
    return document, False
