"""A vet's correction of a document: the fields, text and lab values they fix become what search and reports use.

The first correction keeps the reading's own text and fields (`ocr_text`, `ocr_fields`) beside
the corrected ones, and a lab value's first correction its name, number and unit (`ocr_*`), so
what the OCR said is never lost. The document's search entry and its lab
values (pet and date) follow the correction in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.db import utcnow
from common.errors import BadInput, Conflict, NotFound
from common.security import Principal
from veterinaria.app import service
from veterinaria.app.documents.pipeline import index_document
from veterinaria.app.models import Document, LabValue
from veterinaria.app.schemas import DocumentUpdate, LabValueUpdate

#: request field -> the key it corrects in `Document.fields`
FIELD_KEYS = {"document_type": "document_type", "document_date": "date", "patient_name": "patient_name",
              "vet_name": "vet_name"}


def correct_document(*, session: Session, document: Document, document_in: DocumentUpdate, vet: Principal) -> Document:
    """Apply a vet's correction (only the fields sent) and re-index the document."""
    changes = document_in.model_dump(exclude_unset=True)
    if not changes:
        raise BadInput("No se ha enviado nada que corregir.", code="nothing_to_correct")
    _start_correction(document)
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


def correct_lab_value(
    *, session: Session, document: Document, lab_value_id: int, lab_in: LabValueUpdate, vet: Principal,
) -> LabValue:
    """Correct one lab value of a document (name, number, unit: only those sent) and re-index the document."""
    changes = lab_in.model_dump(exclude_unset=True)
    if not changes:
        raise BadInput("No se ha enviado nada que corregir.", code="nothing_to_correct")
    for required, message in (("name", "El nombre del valor no puede quedar vacío."),
                              ("value", "Escribe el valor (un número, con punto o coma decimal).")):
        if required in changes and changes[required] is None:
            raise BadInput(message, code=f"lab_value_{required}_required")
    lab = session.get(LabValue, lab_value_id)
    if lab is None or lab.document_id != document.id:
        raise NotFound(f"Este documento no tiene ningún valor de análisis con el identificador {lab_value_id}.",
                       code="lab_value_not_found")
    _start_correction(document)
    if lab.corrected_at is None:
        lab.ocr_name, lab.ocr_value, lab.ocr_raw_value, lab.ocr_unit = lab.name, lab.value, lab.raw_value, lab.unit
    if "name" in changes:
        lab.name = changes["name"]
    if "value" in changes:
        lab.value, lab.raw_value, lab.ambiguous = changes["value"], _as_written(changes["value"]), False
    if changes.get("unit") is not None:
        lab.unit = changes["unit"]
    lab.corrected_at = document.corrected_at = utcnow()
    lab.corrected_by = document.corrected_by = vet.id
    session.flush()
    # the document's fields list its lab values as the clinic now has them (the reading's stay in ocr_fields)
    rows = session.scalars(select(LabValue).where(LabValue.document_id == document.id).order_by(LabValue.id)).all()
    document.fields = {**(document.fields or {}), "lab_values": [
        {"name": v.name, "value": v.value, "raw": v.raw_value, "ambiguous": v.ambiguous, "unit": v.unit,
         "reference": v.reference} for v in rows]}
    index_document(session=session, document=document)
    session.flush()
    return lab


def _start_correction(document: Document) -> None:
    """Refuse a document that was not read; keep the reading's text and fields on its first correction."""
    if document.status != "processed":
        raise Conflict("Este documento todavía no se ha leído (o no se pudo leer): no hay nada que corregir.",
                       code="document_not_processed")
    if document.ocr_text is None:
        document.ocr_text, document.ocr_fields = document.extracted_text, dict(document.fields or {})


def _as_written(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)
