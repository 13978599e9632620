"""A vet's correction of a document: the fields and text they fix become what search and reports use.

The first correction keeps the reading's own text and fields (`ocr_text`, `ocr_fields`) beside
the corrected ones, so what the OCR said is never lost. The document's search entry and its lab
values (pet and date) follow the correction in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from common.db import utcnow
from common.errors import BadInput, Conflict
from common.security import Principal
from veterinaria.app import service
from veterinaria.app.documents.pipeline import index_document
from veterinaria.app.models import Document, LabValue
from veterinaria.app.schemas import DocumentUpdate

#: request field -> the key it corrects in `Document.fields`
FIELD_KEYS = {"document_type": "document_type", "document_date": "date", "patient_name": "patient_name",
              "vet_name": "vet_name"}


def correct_document(*, session: Session, document: Document, document_in: DocumentUpdate, vet: Principal) -> Document:
    """Apply a vet's correction (only the fields sent) and re-index the document."""
    changes = document_in.model_dump(exclude_unset=True)
    if not changes:
        raise BadInput("No se ha enviado nada que corregir.", code="nothing_to_correct")
    if document.status != "processed":
        raise Conflict("Este documento todavía no se ha leído (o no se pudo leer): no hay nada que corregir.",
                       code="document_not_processed")
    if document.ocr_text is None:
        document.ocr_text, document.ocr_fields = document.extracted_text, dict(document.fields or {})
    if changes.get("pet_id") is not None:
        document.pet_id = service.get_pet_or_404(session=session, pet_id=changes["pet_id"]).id
    fields = dict(document.fields or {})
    for name, key in FIELD_KEYS.items():
        if name not in changes:
            continue
        value = changes[name]
        if name == "document_type":
            if value is None:
                continue
            document.document_type = value
        elif name == "document_date":
            document.document_date = value
            value = value.isoformat() if value else None
        fields[key] = value or None
    document.fields = fields
    if changes.get("extracted_text") is not None:
        document.extracted_text = changes["extracted_text"]
    document.corrected_at, document.corrected_by = utcnow(), vet.id
    session.execute(
        update(LabValue).where(LabValue.document_id == document.id)
        .values(pet_id=document.pet_id, measured_on=document.document_date)
    )
    index_document(session=session, document=document)
    session.flush()
    return document
