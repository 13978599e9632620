"""Buscar en historias: full-text search over documents and consultations, the words found marked in each snippet."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request

from console.app.highlight import highlight
from console.app.rendering import render
from console.app.session import BackendDep, User, require_page

router = APIRouter()
PAGE_SIZE = 20
SearchUser = Annotated[User, Depends(require_page("buscar"))]
KINDS = {"": "Todo", "document": "Documentos", "consultation": "Consultas"}


@router.get("/buscar")
def search_records(
    request: Request, user: SearchUser, backend: BackendDep, q: Annotated[str, Query(max_length=200)] = "",
    tipo: Annotated[str, Query(pattern="^(|document|consultation)$")] = "",
    pagina: Annotated[int, Query(ge=1, le=1000)] = 1,
):
    q = q.strip()
    hits = []
    if q:
        hits = backend.get("veterinaria", "/historias-clinicas/buscar", token=user.token, params={
            "q": q, "kind": tipo, "limit": PAGE_SIZE + 1, "offset": (pagina - 1) * PAGE_SIZE})
    for hit in hits:
        hit["marked"] = highlight(hit["snippet"], q)

    def page_url(page: int) -> str:
        return "/buscar?" + urlencode({"q": q, **({"tipo": tipo} if tipo else {}), "pagina": page})

    return render(
        request, "records_search.html", user=user, q=q, tipo=tipo, kinds=KINDS, hits=hits[:PAGE_SIZE], page=pagina,
        previous_url=page_url(pagina - 1) if pagina > 1 else None,
        next_url=page_url(pagina + 1) if len(hits) > PAGE_SIZE else None,
    )
