"""The medical report job: gather a pet's records, draw the PDF (`reports.pdf`), store it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import NotFound
from common.storage import Storage
from veterinaria.app.models import Consultation, Document, LabValue, MedicalReport, Pet
from veterinaria.app.reports.pdf import draw_report


def generate_medical_report(
    *, session: Session, storage: Storage, job_id: str, pet_id: int, requested_by: str = "",
) -> dict[str, Any]:
    """Build the report of `pet_id`, store the PDF, list it under the pet, and return the job result."""
    pet = session.get(Pet, pet_id)
    if pet is None:
        raise NotFound(f"No existe la mascota {pet_id}: puede que se haya borrado antes de generar el informe.",
                       code="pet_not_found")
    consultations = list(session.scalars(select(Consultation).where(Consultation.pet_id == pet_id).order_by(Consultation.date, Consultation.id)))
    documents = list(session.scalars(
        select(Document).where(Document.pet_id == pet_id, Document.status == "processed")
        .order_by(Document.document_date.is_(None), Document.document_date, Document.id)
    ))
    lab_values = list(session.scalars(select(LabValue).where(LabValue.pet_id == pet_id).order_by(LabValue.name, LabValue.measured_on)))
    weights = [(c.date.date(), float(c.weight_kg)) for c in consultations if c.weight_kg is not None]

    pdf = draw_report(pet=pet, consultations=consultations, documents=documents, lab_values=lab_values, weights=weights)

    with tempfile.TemporaryDirectory(prefix="timon-report-") as workdir:
        path = Path(workdir) / "informe.pdf"
        pdf.output(str(path))
        stored = storage.save_file(path, key=f"reports/{job_id}/informe.pdf")
    # merge: a redelivered job lists its report once (same id, same key)
    session.merge(MedicalReport(id=job_id, pet_id=pet.id, pdf_key=stored.key, pages=pdf.page_no(),
                                requested_by=requested_by[:150]))
    return {
        "task_id": job_id,
        "mascota_id": pet.id,
        "pet_name": pet.name,
        "consultations": len(consultations),
        "documents": len(documents),
        "lab_values": len(lab_values),
        "weights": [{"date": d.isoformat(), "kg": kg} for d, kg in weights],
        "pdf_key": stored.key,
        "pdf_url": f"/mascotas/{pet.id}/reportes/{job_id}/pdf",
        "pages": pdf.page_no(),
    }
