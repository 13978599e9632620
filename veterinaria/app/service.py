"""Owners, pets, clinical histories, consultations and documents. Services flush; the caller commits.

Who sees what: clinic staff (`veterinario`, `admin`) see every record; anyone else only the pets
whose owner is linked to their auth account. A pet, owner or document someone may not see is
"not found" to them, so its existence is not revealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from common.db import utcnow
from common.errors import BadInput, Conflict
from common.lookup import not_found
from common.security import Principal, Role
from veterinaria.app import search
from veterinaria.app.models import ClinicalHistory, Consultation, Document, LabValue, Owner, Pet
from veterinaria.app.schemas import (
    ConsultationCreate,
    HistoryUpdate,
    LabPoint,
    LabSeries,
    OwnerCreate,
    OwnerUpdate,
    PetCreate,
    PetUpdate,
    normalise_species,
)
from veterinaria.app.search import SearchKind, search_text

CLINICAL_ROLES = frozenset({Role.ADMIN, Role.VET})


def sees_all_pets(viewer: Principal) -> bool:
    return viewer.role in CLINICAL_ROLES


def _owns(viewer: Principal, owner: Owner) -> bool:
    return owner.user_id is not None and owner.user_id == viewer.id


# --- owners ---------------------------------------------------------------------------------


def get_owner_or_404(*, session: Session, owner_id: int, viewer: Principal | None = None) -> Owner:
    """The owner, if it exists and `viewer` (when given) may see it."""
    owner = session.get(Owner, owner_id)
    if owner is None or (viewer is not None and not sees_all_pets(viewer) and not _owns(viewer, owner)):
        raise not_found("el propietario", owner_id, code="owner_not_found")
    return owner


def list_owners(*, session: Session, q: str | None = None, limit: int = 50, offset: int = 0) -> list[Owner]:
    """Owners by name, phone or e-mail fragment, ordered by name."""
    query = select(Owner).order_by(Owner.name_key, Owner.id).limit(limit).offset(offset)
    if q and q.strip():
        query = query.where(
            Owner.name_key.contains(search_text(q), autoescape=True)
            | Owner.phone.contains(q.strip(), autoescape=True)
            | Owner.email.icontains(q.strip(), autoescape=True)
        )
    return list(session.scalars(query))


def create_owner(*, session: Session, owner_in: OwnerCreate) -> Owner:
    owner = Owner(
        full_name=owner_in.full_name, name_key=search_text(owner_in.full_name)[:200], phone=owner_in.phone,
        email=owner_in.email, user_id=owner_in.user_id,
    )
    session.add(owner)
    _flush_unique_user(session, owner_in.user_id)
    return owner


def update_owner(*, session: Session, owner: Owner, owner_in: OwnerUpdate) -> Owner:
    changes = owner_in.model_dump(exclude_unset=True)
    for field, value in changes.items():
        if value is None and field in ("full_name", "phone"):
            continue
        setattr(owner, field, value)
    owner.name_key = search_text(owner.full_name)[:200]
    _flush_unique_user(session, changes.get("user_id"))
    return owner


def _flush_unique_user(session: Session, user_id: int | None) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"La cuenta de usuario {user_id} ya está vinculada a otro propietario.", code="user_already_linked") from None


# --- pets -----------------------------------------------------------------------------------


def get_pet_or_404(*, session: Session, pet_id: int, viewer: Principal | None = None) -> Pet:
    """The pet, if it exists and `viewer` (when given) may see it; tasks pass no viewer."""
    pet = session.get(Pet, pet_id)
    if pet is None or (viewer is not None and not sees_all_pets(viewer) and not _owns(viewer, pet.owner)):
        raise not_found("la mascota", pet_id, code="pet_not_found")
    return pet


def list_pets(
    *, session: Session, viewer: Principal, q: str | None = None, species: str | None = None,
    owner_id: int | None = None, limit: int = 50, offset: int = 0,
) -> list[Pet]:
    """Pets `viewer` may see, by name fragment, species and owner, ordered by name."""
    query = select(Pet).join(Pet.owner).order_by(Pet.name_key, Pet.id).limit(limit).offset(offset)
    if not sees_all_pets(viewer):
        query = query.where(Owner.user_id == viewer.id)
    if q and search_text(q):
        query = query.where(Pet.name_key.contains(search_text(q), autoescape=True))
    if species and search_text(species):
        query = query.where(Pet.species == normalise_species(species))
    if owner_id is not None:
        query = query.where(Pet.owner_id == owner_id)
    return list(session.scalars(query))


def create_pet(*, session: Session, pet_in: PetCreate) -> Pet:
    """Register a pet and open its clinical history."""
    owner = get_owner_or_404(session=session, owner_id=pet_in.owner_id)
    pet = Pet(**pet_in.model_dump(), name_key=search_text(pet_in.name)[:100], owner=owner)
    session.add(pet)
    session.flush()
    session.add(ClinicalHistory(pet_id=pet.id))
    session.flush()
    return pet


def update_pet(*, session: Session, pet: Pet, pet_in: PetUpdate) -> Pet:
    changes = pet_in.model_dump(exclude_unset=True)
    if changes.get("owner_id") is not None:
        pet.owner = get_owner_or_404(session=session, owner_id=changes["owner_id"])
    for field, value in changes.items():
        if value is None and field != "birth_date":
            continue  # null means "leave as is" for what a pet must have
        setattr(pet, field, value)
    pet.name_key = search_text(pet.name)[:100]
    session.flush()
    return pet


# --- histories ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PetHistory:
    id: int
    pet: Pet
    notes: str
    created_at: datetime
    consultations: list[Consultation]
    documents: list[Document]
    consultations_total: int
    documents_total: int


#: Consultations and documents a history shows (the latest); the rest are in the paginated lists.
HISTORY_ITEMS = 100


def get_history(*, session: Session, pet: Pet) -> ClinicalHistory:
    """The pet's one clinical history (opened now should the pet predate histories)."""
    history = session.scalar(select(ClinicalHistory).where(ClinicalHistory.pet_id == pet.id))
    if history is None:
        history = ClinicalHistory(pet_id=pet.id)
        session.add(history)
        session.flush()
    return history


def read_history(*, session: Session, pet: Pet, items: int = HISTORY_ITEMS) -> PetHistory:
    """The pet's history with its latest `items` consultations and documents, oldest first, and their totals."""
    history = get_history(session=session, pet=pet)
    consultations_total = session.scalar(select(func.count()).where(Consultation.pet_id == pet.id)) or 0
    documents_total = session.scalar(select(func.count()).where(Document.pet_id == pet.id)) or 0
    return PetHistory(
        id=history.id, pet=pet, notes=history.notes, created_at=history.created_at,
        consultations=list_consultations(
            session=session, pet=pet, limit=items, offset=max(0, consultations_total - items)
        ),
        documents=list_documents(
            session=session, pet=pet, limit=items, offset=max(0, documents_total - items)
        ),
        consultations_total=consultations_total, documents_total=documents_total,
    )


def update_history(*, session: Session, pet: Pet, history_in: HistoryUpdate) -> PetHistory:
    """Replace the history's standing notes (allergies, chronic conditions)."""
    get_history(session=session, pet=pet).notes = history_in.notes
    session.flush()
    return read_history(session=session, pet=pet)


# --- consultations --------------------------------------------------------------------------


def list_consultations(*, session: Session, pet: Pet, limit: int | None = 100, offset: int = 0) -> list[Consultation]:
    """The pet's consultations in date order, oldest first."""
    query = (
        select(Consultation).where(Consultation.pet_id == pet.id)
        .order_by(Consultation.date, Consultation.id).limit(limit).offset(offset)
    )
    return list(session.scalars(query))


def create_consultation(
    *, session: Session, pet: Pet, consultation_in: ConsultationCreate, vet: Principal
) -> Consultation:
    """Record a consultation by `vet` and make it searchable."""
    date = consultation_in.date or utcnow()
    if pet.birth_date is not None and date.date() < pet.birth_date:
        raise BadInput(
            f"La fecha {date.date()} es anterior al nacimiento de {pet.name} ({pet.birth_date}).", code="date_before_birth"
        )
    consultation = Consultation(
        **consultation_in.model_dump(exclude={"date"}), date=date, pet_id=pet.id, vet_id=vet.id, vet_name=vet.username
    )
    session.add(consultation)
    session.flush()
    search.index_entry(
        session=session, kind=SearchKind.CONSULTATION, ref_id=consultation.id, pet_id=pet.id,
        body="\n".join((consultation.reason, consultation.diagnosis, consultation.treatment)),
    )
    return consultation


# --- documents ------------------------------------------------------------------------------


def list_documents(*, session: Session, pet: Pet, limit: int | None = 100, offset: int = 0) -> list[Document]:
    """The pet's documents by their date, oldest first; undated ones last, in upload order."""
    query = (
        select(Document).where(Document.pet_id == pet.id)
        # a list shows what a document is, not what it says: its text, pages and fields stay in the database
        .options(defer(Document.page_texts), defer(Document.extracted_text), defer(Document.fields),
                 defer(Document.ocr_text), defer(Document.ocr_fields))
        .order_by(Document.document_date.is_(None), Document.document_date, Document.created_at, Document.id)
        .limit(limit).offset(offset)
    )
    return list(session.scalars(query))


def get_document_or_404(*, session: Session, document_id: int, viewer: Principal | None = None) -> Document:
    """The document, if it exists and `viewer` (when given) may see it: staff all, owners their pets'."""
    document = session.get(Document, document_id)
    if document is not None and viewer is not None and not sees_all_pets(viewer):
        pet = session.get(Pet, document.pet_id) if document.pet_id is not None else None
        if pet is None or not _owns(viewer, pet.owner):
            document = None
    if document is None:
        raise not_found("el documento", document_id, code="document_not_found")
    return document


#: Lab values a pet's series show at most (the latest); years of monthly analyses fit many times over.
LAB_VALUES_SHOWN = 5000


def lab_series(*, session: Session, pet: Pet) -> list[LabSeries]:
    """Each lab value of the pet over time (oldest first), by name; the unit and range are the latest printed."""
    rows = session.scalars(
        select(LabValue).where(LabValue.pet_id == pet.id)
        .order_by(LabValue.measured_on.is_(None).desc(), LabValue.measured_on.desc(), LabValue.id.desc())
        .limit(LAB_VALUES_SHOWN)
    ).all()
    series: dict[str, LabSeries] = {}
    for value in reversed(rows):
        key = search_text(value.name)
        if key not in series:
            series[key] = LabSeries(name=value.name, unit=value.unit, reference=value.reference, points=[])
        found = series[key]
        found.unit, found.reference = value.unit or found.unit, value.reference or found.reference
        found.points.append(LabPoint(date=value.measured_on, value=value.value, raw=value.raw_value,
                                     document_id=value.document_id, corrected=value.corrected_at is not None))
    return sorted(series.values(), key=lambda s: search_text(s.name))


# --- search ---------------------------------------------------------------------------------


def search_records(
    *, session: Session, viewer: Principal, q: str, pet_id: int | None = None, kind: SearchKind | None = None,
    limit: int = 20, offset: int = 0,
) -> list[search.Hit]:
    """Full-text search over the documents and consultations `viewer` may see."""
    return search.search(
        session=session, q=q, owner_user_id=None if sees_all_pets(viewer) else viewer.id, pet_id=pet_id, kind=kind,
        limit=limit, offset=offset,
    )
