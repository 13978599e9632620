"""The veterinaria job kinds an admin can schedule (`/schedules/` on :8002), and the part of storage it cleans."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.enqueue import Enqueuer
from common.jobs import Job
from common.schedules.cleanup import CleanupScope, cleanup_kind
from common.schedules.kinds import Kinds, ScheduledKind
from common.security import Principal
from common.types import DbId
from veterinaria.app import jobs, service
from veterinaria.app.models import Document


class MedicalReportParams(BaseModel):
    """The consolidated medical report (PDF) of one pet."""

    model_config = ConfigDict(extra="forbid")

    pet_id: DbId


def _check_report(*, session: Session, params: MedicalReportParams) -> None:
    service.get_pet_or_404(session=session, pet_id=params.pet_id)


def _submit_report(*, session: Session, enqueuer: Enqueuer, owner: Principal, params: MedicalReportParams) -> Job:
    pet = service.get_pet_or_404(session=session, pet_id=params.pet_id)
    return jobs.submit_medical_report(session=session, enqueuer=enqueuer, pet=pet, owner=owner)


def _document_files(session: Session) -> list[str]:
    # a failed document's file is expendable: the same file uploaded again takes its place
    return list(session.scalars(select(Document.file_key).where(Document.status != "failed")))


KINDS = Kinds(jobs.SERVICE, [
    ScheduledKind(
        name=jobs.REPORT,
        description="Informe médico consolidado (PDF) de una mascota, como POST /mascotas/{id}/reportes/.",
        params=MedicalReportParams, submit=_submit_report, check=_check_report,
    ),
    cleanup_kind(),
])

# clinical documents under documents/ (kept while their Document needs them), report PDFs under reports/<job id>/
CLEANUP = CleanupScope(service=jobs.SERVICE, prefixes=("documents", "reports"), needed_by_records=_document_files)
