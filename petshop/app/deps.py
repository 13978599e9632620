"""Dependencies of the petshop routes: who may act, and the records a route acts on."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from common.security import Principal, Role, require_role
from common.types import DbId
from common.web import SessionDep
from petshop.app import service
from petshop.app.models import Store

# shop staff and admins work with stores, stock and imports
ShopStaff = Annotated[Principal, Depends(require_role(Role.STAFF))]
Admin = Annotated[Principal, Depends(require_role())]


def valid_store(store_id: DbId, _staff: ShopStaff, session: SessionDep) -> Store:
    # the role is checked before the lookup, so a missing store tells a wrong role nothing
    return service.get_store_or_404(session=session, store_id=store_id)


ValidStore = Annotated[Store, Depends(valid_store)]
