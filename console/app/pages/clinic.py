"""Mascotas: vets search every pet (accent-insensitive, by the veterinaria API); a cliente sees only their own."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request

from console.app.rendering import render
from console.app.session import BackendDep, User, require_page

router = APIRouter()
PAGE_SIZE = 25
PetsUser = Annotated[User, Depends(require_page("mascotas"))]


@router.get("/mascotas")
def pets(
    request: Request, user: PetsUser, backend: BackendDep, q: Annotated[str, Query(max_length=100)] = "",
    pagina: Annotated[int, Query(ge=1, le=100_000)] = 1,
):
    q = q.strip()
    rows = backend.get("veterinaria", "/mascotas/", token=user.token,
                       params={"q": q, "limit": PAGE_SIZE + 1, "offset": (pagina - 1) * PAGE_SIZE})

    def page_url(page: int) -> str:
        return "/mascotas?" + urlencode({**({"q": q} if q else {}), "pagina": page})

    return render(
        request, "pets.html", user=user, pets=rows[:PAGE_SIZE], q=q, page=pagina,
        previous_url=page_url(pagina - 1) if pagina > 1 else None,
        next_url=page_url(pagina + 1) if len(rows) > PAGE_SIZE else None,
    )


@router.get("/mascotas/{pet_id}")
def pet(request: Request, user: PetsUser, backend: BackendDep, pet_id: Annotated[int, Path(ge=1, le=2**31 - 1)]):
    """One pet; the API answers 404 for a pet that is not the cliente's, and so does this page."""
    found = backend.get("veterinaria", f"/mascotas/{pet_id}", token=user.token)
    consultations = backend.get("veterinaria", f"/mascotas/{pet_id}/consultas/", token=user.token, params={"limit": 100})
    return render(request, "pet.html", user=user, pet=found, consultations=consultations)
