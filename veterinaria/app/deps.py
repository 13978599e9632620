"""Dependencies of the veterinaria routes: who may act, and the records a route acts on.

Reading: clinic staff see everything, a `cliente` only their own pets (any other pet is a 404, so
its existence is not revealed). Writing: clinic staff only — a `cliente` gets 403 before any
lookup. Shop staff (`empleado`) get 403 on every clinical route.

Pet routes name their path parameter `mascota_id`, as the seed's `/mascotas/{mascota_id}/reportes/`
does, so these dependencies serve every route under `/mascotas/`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from common.security import Principal, Role, require_role
from common.types import DbId
from common.web import SessionDep
from veterinaria.app import service
from veterinaria.app.models import Document, Owner, Pet

# vets and admins read and write every clinical record
ClinicStaff = Annotated[Principal, Depends(require_role(Role.VET))]
# ...and pet owners read their own pets' records
ClinicReader = Annotated[Principal, Depends(require_role(Role.VET, Role.CLIENT))]


def get_visible_pet(*, session: Session, pet_id: int, user: Principal) -> Pet:
    """The pet if it exists and `user` may see it, else NotFound; for routes whose pet id is not in the path."""
    return service.get_pet_or_404(session=session, pet_id=pet_id, viewer=user)


def visible_pet(mascota_id: DbId, user: ClinicReader, session: SessionDep) -> Pet:
    return get_visible_pet(session=session, pet_id=mascota_id, user=user)


def editable_pet(mascota_id: DbId, _staff: ClinicStaff, session: SessionDep) -> Pet:
    return service.get_pet_or_404(session=session, pet_id=mascota_id)


def visible_owner(owner_id: DbId, user: ClinicReader, session: SessionDep) -> Owner:
    return service.get_owner_or_404(session=session, owner_id=owner_id, viewer=user)


def editable_owner(owner_id: DbId, _staff: ClinicStaff, session: SessionDep) -> Owner:
    return service.get_owner_or_404(session=session, owner_id=owner_id)


def visible_document(document_id: DbId, user: ClinicReader, session: SessionDep) -> Document:
    return service.get_document_or_404(session=session, document_id=document_id, viewer=user)


def editable_document(document_id: DbId, _staff: ClinicStaff, session: SessionDep) -> Document:
    return service.get_document_or_404(session=session, document_id=document_id)


VisiblePet = Annotated[Pet, Depends(visible_pet)]
EditablePet = Annotated[Pet, Depends(editable_pet)]
VisibleOwner = Annotated[Owner, Depends(visible_owner)]
EditableOwner = Annotated[Owner, Depends(editable_owner)]
VisibleDocument = Annotated[Document, Depends(visible_document)]
EditableDocument = Annotated[Document, Depends(editable_document)]
