"""Owners, pets, clinical histories, consultations, documents and search: the clinic's CRUD."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from common.types import DbId, Offset
from common.web import SessionDep
from veterinaria.app import service
from veterinaria.app.deps import (
    ClinicReader,
    ClinicStaff,
    EditableOwner,
    EditablePet,
    VisibleDocument,
    VisibleOwner,
    VisiblePet,
)
from veterinaria.app.schemas import (
    ConsultationCreate,
    ConsultationRead,
    DocumentRead,
    DocumentSummary,
    HistoryRead,
    HistoryUpdate,
    LabSeries,
    OwnerCreate,
    OwnerRead,
    OwnerUpdate,
    PetCreate,
    PetRead,
    PetUpdate,
    SearchHit,
)
from veterinaria.app.search import SearchKind

router = APIRouter()
Limit = Annotated[int, Query(ge=1, le=500)]

NOT_VISIBLE = {404: {"description": "No such record, or not one of your pets'"}}
STAFF_ONLY = {403: {"description": "Only vets and admins may do this"}}
LINKED_ELSEWHERE = {**STAFF_ONLY, 409: {"description": "That user account is already linked to an owner"}}
OWNER_NEEDED = {**STAFF_ONLY, 404: {"description": "No such pet, or no such owner"}}
CREATED = status.HTTP_201_CREATED


# --- owners ---------------------------------------------------------------------------------


@router.post("/propietarios/", response_model=OwnerRead, status_code=CREATED, responses=LINKED_ELSEWHERE, tags=["owners"])
def create_owner(owner_in: OwnerCreate, _staff: ClinicStaff, session: SessionDep):
    """Register a pet owner; with `user_id` (their auth account, role `cliente`) they can see their pets."""
    return service.create_owner(session=session, owner_in=owner_in)


@router.get("/propietarios/", response_model=list[OwnerRead], responses=STAFF_ONLY, tags=["owners"])
def list_owners(
    _staff: ClinicStaff, session: SessionDep,
    q: Annotated[str | None, Query(max_length=100, description="Part of the name, phone or e-mail")] = None,
    limit: Limit = 50, offset: Offset = 0,
):
    """Owners, searchable by name (accents and case ignored), phone or e-mail."""
    return service.list_owners(session=session, q=q, limit=limit, offset=offset)


@router.get("/propietarios/{owner_id}", response_model=OwnerRead, responses=NOT_VISIBLE, tags=["owners"])
def read_owner(owner: VisibleOwner):
    """One owner (a client sees only themself)."""
    return owner


@router.patch("/propietarios/{owner_id}", response_model=OwnerRead, responses=LINKED_ELSEWHERE, tags=["owners"])
def update_owner(owner_in: OwnerUpdate, owner: EditableOwner, session: SessionDep):
    """Change an owner's details, or link (unlink with null) their auth account."""
    return service.update_owner(session=session, owner=owner, owner_in=owner_in)


@router.get("/propietarios/{owner_id}/mascotas/", response_model=list[PetRead], responses=NOT_VISIBLE, tags=["owners"])
def list_owner_pets(owner: VisibleOwner, user: ClinicReader, session: SessionDep, limit: Limit = 50, offset: Offset = 0):
    """An owner's pets."""
    return service.list_pets(session=session, viewer=user, owner_id=owner.id, limit=limit, offset=offset)


# --- pets -----------------------------------------------------------------------------------


@router.post("/mascotas/", response_model=PetRead, status_code=CREATED, responses=OWNER_NEEDED, tags=["pets"])
def create_pet(pet_in: PetCreate, _staff: ClinicStaff, session: SessionDep):
    """Register a pet with its owner; its clinical history opens with it."""
    return service.create_pet(session=session, pet_in=pet_in)


@router.get("/mascotas/", response_model=list[PetRead], tags=["pets"])
def list_pets(
    user: ClinicReader, session: SessionDep,
    q: Annotated[str | None, Query(max_length=100, description="Part of the name (accents and case ignored)")] = None,
    species: Annotated[str | None, Query(max_length=40, description="'perro' finds 'canino', 'gato' 'felino'")] = None,
    owner_id: DbId | None = None, limit: Limit = 50, offset: Offset = 0,
):
    """Pets by name, species and owner; a client sees only their own."""
    return service.list_pets(
        session=session, viewer=user, q=q, species=species, owner_id=owner_id, limit=limit, offset=offset
    )


@router.get("/mascotas/{mascota_id}", response_model=PetRead, responses=NOT_VISIBLE, tags=["pets"])
def read_pet(pet: VisiblePet):
    """One pet."""
    return pet


@router.patch("/mascotas/{mascota_id}", response_model=PetRead, responses=OWNER_NEEDED, tags=["pets"])
def update_pet(pet_in: PetUpdate, pet: EditablePet, session: SessionDep):
    """Correct a pet's details or move it to another owner."""
    return service.update_pet(session=session, pet=pet, pet_in=pet_in)


@router.get("/mascotas/{mascota_id}/historia", response_model=HistoryRead, responses=NOT_VISIBLE, tags=["clinical history"])
def read_history(
    pet: VisiblePet, session: SessionDep,
    items: Annotated[int, Query(ge=0, le=100, description="How many of the latest consultations and documents")] = 100,
):
    """The pet's clinical history: standing notes, its latest consultations and documents (oldest first), their totals."""
    return service.read_history(session=session, pet=pet, items=items)


@router.patch("/mascotas/{mascota_id}/historia", response_model=HistoryRead, responses=STAFF_ONLY, tags=["clinical history"])
def update_history(history_in: HistoryUpdate, pet: EditablePet, session: SessionDep):
    """Replace the history's standing notes (allergies, chronic conditions)."""
    return service.update_history(session=session, pet=pet, history_in=history_in)


# --- consultations --------------------------------------------------------------------------


@router.post("/mascotas/{mascota_id}/consultas/", response_model=ConsultationRead, status_code=CREATED, responses=STAFF_ONLY,
             tags=["clinical history"])
def create_consultation(consultation_in: ConsultationCreate, pet: EditablePet, vet: ClinicStaff, session: SessionDep):
    """Record a consultation, signed by the logged-in vet; it becomes searchable at once."""
    return service.create_consultation(session=session, pet=pet, consultation_in=consultation_in, vet=vet)


@router.get("/mascotas/{mascota_id}/consultas/", response_model=list[ConsultationRead], responses=NOT_VISIBLE,
            tags=["clinical history"])
def list_consultations(pet: VisiblePet, session: SessionDep, limit: Limit = 100, offset: Offset = 0):
    """The pet's consultations in date order, oldest first."""
    return service.list_consultations(session=session, pet=pet, limit=limit, offset=offset)


# --- documents ------------------------------------------------------------------------------


@router.get("/mascotas/{mascota_id}/documentos/", response_model=list[DocumentSummary], responses=NOT_VISIBLE, tags=["documents"])
def list_documents(pet: VisiblePet, session: SessionDep, limit: Limit = 100, offset: Offset = 0):
    """The pet's documents by date (undated last): type, pages, confidence, status — not their text."""
    return service.list_documents(session=session, pet=pet, limit=limit, offset=offset)


@router.get("/mascotas/{mascota_id}/analiticas/", response_model=list[LabSeries], responses=NOT_VISIBLE, tags=["documents"])
def list_lab_series(pet: VisiblePet, session: SessionDep):
    """The pet's lab values as series: one per name (hemoglobina, glucosa…), each point a date and a value, oldest first."""
    return service.lab_series(session=session, pet=pet)


@router.get("/documentos/{document_id}", response_model=DocumentRead, responses=NOT_VISIBLE, tags=["documents"])
def read_document(document: VisibleDocument):
    """One document with everything read from it: full text, per-page text and the fields found."""
    return document


# --- search ---------------------------------------------------------------------------------


@router.get("/historias-clinicas/buscar", response_model=list[SearchHit], tags=["search"])
def search_records(
    user: ClinicReader, session: SessionDep,
    q: Annotated[str, Query(max_length=200, description="Words to find, all of them; accents and case ignored")],
    pet_id: Annotated[DbId | None, Query(description="Only this pet's records")] = None,
    kind: Annotated[SearchKind | None, Query(description="Only documents or only consultations")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20, offset: Offset = 0,
):
    """Full-text search over documents and consultations, best match first, with a snippet of each.

    Every word must appear; accents and case do not matter ("radiografia torax" finds "Radiografía
    TÓRAX"), and on PostgreSQL Spanish word forms match too ("vacunas" finds "vacuna"). A client
    finds only their own pets' records. Punctuation and search operators in `q` are ignored.
    """
    return service.search_records(session=session, viewer=user, q=q, pet_id=pet_id, kind=kind, limit=limit, offset=offset)
