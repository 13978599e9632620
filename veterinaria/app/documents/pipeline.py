"""The clinical document job: read an uploaded document (text layer or OCR), file what it says.

The worker extracts the text outside any transaction (OCR takes seconds, see `documents.read`), then
writes the document's text, fields, lab values, search entry and the job's completion in one
transaction. Submission (storing the upload, finding or creating its Document) is in `jobs`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.config import Settings
from common.errors import BadInput
from common.storage import Storage
from veterinaria.app.documents.read import DocumentError, DocumentText, extract_document, extract_fields
from veterinaria.app.documents.read.fields import type_label
from veterinaria.app.documents.read.pool import HelperDied
from veterinaria.app.models import Document, LabValue, Pet
from veterinaria.app.search import index_entry, search_text

EXCERPT_PAGES = 50
#: Characters of the document's text in the job result (the whole text is on the document).
TEXT_IN_RESULT = 20_000
PAGE_TEXT_IN_RESULT = 2_000


def read_document(*, storage: Storage, document: Document, settings: Settings, on_page) -> DocumentText:
    """Extract the text (no transaction held); DocumentError becomes BadInput for the job."""
    try:
        with storage.local_copy(document.file_key) as source:  # PDFium and PIL read a real file
            return extract_document(
                source, max_pages=settings.max_document_pages, on_page=on_page,
                workers=settings.ocr_page_workers, memory_budget=settings.file_memory_budget_bytes,
            )
    except DocumentError as exc:
        raise BadInput(exc.message, code=exc.code) from None
    except HelperDied as exc:
        if exc.page is None:
            raise
        # the page, not the system: it took down a fresh OCR helper too, and would again on a retry
        raise BadInput(
            f"No se pudo leer la página {exc.page}: el lector de texto se detuvo dos veces con ella (suele ser una "
            "imagen enorme o dañada). Escanéala de nuevo a 300 ppp o súbela aparte.", code="page_stopped_ocr",
        ) from None


def file_results(
    *, session: Session, job_id: str, document_id: int, text: DocumentText, document_type: str | None,
    mascota_id: int | None, seconds: float,
) -> dict[str, Any]:
    """Write what was read: text, fields, lab values, the pet it belongs to, the search entry."""
    document = session.get(Document, document_id, with_for_update=True)
    fields = extract_fields(text.text)
    candidates: list[dict[str, Any]] = []
    pet_id = mascota_id or document.pet_id
    if pet_id is None:
        candidates = match_pets(session=session, patient=fields.patient_name, species=fields.species, owner=fields.owner_name)
        if len(candidates) == 1:
            pet_id = candidates[0]["id"]
    document.pet_id = pet_id
    document.document_type = document_type or fields.document_type
    document.document_date = fields.date
    document.pages = len(text.pages)
    document.page_texts = [{"number": p.number, "text": p.text, "confidence": round(p.confidence, 4), "source": p.source,
                            "rotated": p.rotated} for p in text.pages]
    document.extracted_text = text.text
    document.fields = _fields_json(fields)
    document.confidence = round(text.confidence, 4)
    document.processing_time = round(seconds, 3)
    document.status = "processed"
    session.query(LabValue).filter(LabValue.document_id == document.id).delete()
    session.add_all(
        LabValue(document_id=document.id, pet_id=pet_id, name=v.name[:100], value=v.value, raw_value=v.raw[:40],
                 ambiguous=v.ambiguous, unit=(v.unit or "")[:30], reference=(v.reference or "")[:60],
                 measured_on=fields.date)
        for v in fields.lab_values
    )
    index_document(session=session, document=document)
    session.flush()
    return result_of(document, job_id=job_id, candidates=candidates)


def index_document(*, session: Session, document: Document) -> None:
    """The document's search entry: its file name, type, (possibly corrected) text and lab values.

    The lab values go in as the clinic has them, so a corrected name or unit is found too.
    """
    labs = session.scalars(select(LabValue).where(LabValue.document_id == document.id).order_by(LabValue.id)).all()
    lab_lines = "\n".join(f"{v.name} {v.raw_value} {v.unit}".strip() for v in labs)
    index_entry(session=session, kind="document", ref_id=document.id, pet_id=document.pet_id,
                body=search_text(f"{document.file_name}\n{document.document_type}\n{document.extracted_text}\n{lab_lines}"))


def result_of(document: Document, *, job_id: str, candidates: list[dict[str, Any]] | None = None, duplicate: bool = False) -> dict[str, Any]:
    """The job result: the seed's fields, then ours."""
    return {
        "task_id": job_id,
        "file_path": document.file_key,
        "document_type": document.document_type,
        "document_type_label": type_label(document.document_type),
        "extracted_text": _excerpt(document.extracted_text),
        "extracted_text_truncated": len(document.extracted_text or "") > TEXT_IN_RESULT,
        "status": "completed",
        "confidence": document.confidence,
        "document_id": document.id,
        "mascota_id": document.pet_id,
        "pages": [{"number": p["number"], "text": p["text"][:PAGE_TEXT_IN_RESULT], "confidence": p["confidence"]}
                  for p in document.page_texts[:EXCERPT_PAGES]],
        "fields": document.fields,
        "processing_time": document.processing_time,
        "duplicate": duplicate,
        "pet_candidates": candidates or [],
    }


def _excerpt(text: str | None) -> str | None:
    """The document's text for the job result: its start; all of it is at GET /documentos/{id}."""
    return text if text is None or len(text) <= TEXT_IN_RESULT else text[:TEXT_IN_RESULT] + "…"


def mark_failed(*, session: Session, document_id: int) -> str | None:
    """Mark a document that could not be read `failed`; returns the key of its file, which nobody needs now."""
    document = session.get(Document, document_id)
    if document is not None and document.status != "processed":
        document.status = "failed"
        return document.file_key
    return None


def match_pets(*, session: Session, patient: str | None, species: str | None, owner: str | None) -> list[dict[str, Any]]:
    """Pets whose name (and species and owner, when the document names them) match; best first."""
    if not patient:
        return []
    pets = list(session.scalars(select(Pet).where(Pet.name_key == search_text(patient)).limit(20)))
    if species:
        pets = [pet for pet in pets if pet.species == species] or pets
    if owner:
        owner_key = search_text(owner)
        same_owner = [pet for pet in pets if owner_key in pet.owner.name_key or pet.owner.name_key in owner_key]
        pets = same_owner or pets
    return [{"id": pet.id, "name": pet.name, "species": pet.species, "owner": pet.owner.full_name} for pet in pets]


def _fields_json(fields) -> dict[str, Any]:
    return {
        "document_type": fields.document_type,
        "patient_name": fields.patient_name,
        "species": fields.species,
        "breed": fields.breed,
        "owner_name": fields.owner_name,
        "date": fields.date.isoformat() if isinstance(fields.date, date) else None,
        "vet_name": fields.vet_name,
        "lab_values": [{"name": v.name, "value": v.value, "raw": v.raw, "ambiguous": v.ambiguous, "unit": v.unit,
                        "reference": v.reference} for v in fields.lab_values],
    }

