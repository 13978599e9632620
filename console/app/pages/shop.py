"""Productos y stock: a store's stock (or the whole catalogue) searched, filtered and paginated by the petshop API."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request

from console.app.rendering import render
from console.app.session import BackendDep, User, require_page

router = APIRouter()
PAGE_SIZE = 25
CATALOGUE = "catalogo"  # the store picker's "no store": products without stock figures
ShopUser = Annotated[User, Depends(require_page("productos"))]


@router.get("/tienda/productos")
def products(
    request: Request, user: ShopUser, backend: BackendDep,
    tienda: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str, Query(max_length=100)] = "",
    categoria: Annotated[str, Query(max_length=12)] = "",
    proveedor: Annotated[str, Query(max_length=12)] = "",
    bajo: bool = False,
    pagina: Annotated[int, Query(ge=1, le=100_000)] = 1,
):
    # a select's "Todas" sends an empty value: that is no filter, not a bad request
    categoria, proveedor = _id(categoria), _id(proveedor)
    stores = backend.get("petshop", "/tiendas/", token=user.token, params={"limit": 500})
    categories = backend.get("petshop", "/categorias/", token=user.token, params={"limit": 500})
    store = _pick_store(stores, tienda)
    filters = {"tienda": str(store["id"]) if store else CATALOGUE, "q": q.strip(), "categoria": categoria,
               "bajo": bajo if store else False, "proveedor": None if store else proveedor}
    page_params = {"q": filters["q"], "category_id": categoria, "limit": PAGE_SIZE + 1, "offset": (pagina - 1) * PAGE_SIZE}
    if store:
        # the stock listing has no supplier filter (yet): the supplier filter is the catalogue's
        rows = backend.get("petshop", f"/tiendas/{store['id']}/stock/", token=user.token,
                           params={**page_params, "low": "true" if bajo else None})
        suppliers = []
    else:
        rows = backend.get("petshop", "/productos/", token=user.token, params={**page_params, "supplier_id": proveedor})
        suppliers = backend.get("petshop", "/proveedores/", token=user.token, params={"limit": 500})
    has_next = len(rows) > PAGE_SIZE
    return render(
        request, "products.html", user=user, stores=stores, store=store, categories=categories, suppliers=suppliers,
        rows=rows[:PAGE_SIZE], filters=filters, page=pagina, first_row=(pagina - 1) * PAGE_SIZE + 1,
        previous_url=_page_url(filters, pagina - 1) if pagina > 1 else None,
        next_url=_page_url(filters, pagina + 1) if has_next else None,
    )


def _id(value: str) -> int | None:
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


def _pick_store(stores: list[dict], chosen: str | None) -> dict | None:
    """The chosen store, the first one when none is chosen, or None for the catalogue."""
    if chosen == CATALOGUE or not stores:
        return None
    if chosen and chosen.isdigit():
        return next((s for s in stores if s["id"] == int(chosen)), stores[0])
    return stores[0]


def _page_url(filters: dict, page: int) -> str:
    params = {k: ("1" if v is True else v) for k, v in filters.items() if v not in (None, "", False)}
    return "/tienda/productos?" + urlencode({**params, "pagina": page})
