"""Ventas: record a sale in a store (find the product, say how many) and see the store's latest sales."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse

from console.app.backend import BackendError, SessionExpired
from console.app.rendering import money, render
from console.app.session import BackendDep, CsrfChecked, User, require_page

router = APIRouter()
SalesUser = Annotated[User, Depends(require_page("ventas"))]
FOUND = 10  # products listed for a search
RECENT = 20  # sales lines shown


def _stores(backend, user: User) -> list[dict]:
    return backend.get("petshop", "/tiendas/", token=user.token, params={"limit": 500})


def _pick(stores: list[dict], chosen: int | None) -> dict | None:
    return next((s for s in stores if s["id"] == chosen), stores[0] if stores else None)


def _page(request: Request, backend, user: User, *, store_id: int | None, q: str, status_code: int = 200,
          error: str | None = None, sale: dict | None = None):
    stores = _stores(backend, user)
    store = _pick(stores, store_id)
    found, sales = [], []
    if store:
        if q:
            found = backend.get("petshop", f"/tiendas/{store['id']}/stock/", token=user.token, params={"q": q, "limit": FOUND})
        sales = backend.get("petshop", f"/tiendas/{store['id']}/ventas/", token=user.token, params={"limit": RECENT})
    for line in sales:
        line["total"] = Decimal(str(line["unit_price"])) * line["quantity"]
    return render(request, "sales.html", status_code=status_code, user=user, stores=stores, store=store, q=q,
                  found=found, sales=sales, error=error, sale=sale)


@router.get("/tienda/ventas")
def sales_page(
    request: Request, user: SalesUser, backend: BackendDep,
    tienda: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None, q: Annotated[str, Query(max_length=100)] = "",
):
    """The sales counter: a store, a product search with each match's stock, and the store's latest sales."""
    return _page(request, backend, user, store_id=tienda, q=q.strip())


@router.post("/tienda/ventas", dependencies=[CsrfChecked])
def record_sale(
    request: Request, user: SalesUser, backend: BackendDep, tienda: Annotated[int, Form(ge=1, le=2**31 - 1)],
    sku: Annotated[str, Form(min_length=1, max_length=64)], cantidad: Annotated[str, Form(max_length=12)] = "",
    q: Annotated[str, Form(max_length=100)] = "",
):
    """Sell `cantidad` units of one product in a store; petshop's refusal (not enough stock…) is shown on the page."""
    quantity = int(cantidad) if cantidad.strip().isdigit() else None
    if not quantity:
        return _page(request, backend, user, store_id=tienda, q=q, status_code=422,
                     error=f"Indica cuántas unidades de {sku} se venden: un número entero mayor que 0.")
    try:
        lines = backend.request("petshop", "POST", f"/tiendas/{tienda}/ventas/", token=user.token,
                                json={"lines": [{"sku": sku, "quantity": quantity}]})
    except BackendError as exc:
        if isinstance(exc, SessionExpired) or exc.status_code >= 500 or exc.status_code == 403:
            raise
        return _page(request, backend, user, store_id=tienda, q=q, status_code=exc.status_code, error=exc.message)
    line = lines[0]
    total = Decimal(str(line["unit_price"])) * line["quantity"]
    request.session["flash"] = f"Venta registrada: {line['quantity']} × {line['sku']} a {money(line['unit_price'])} = {money(total)}."
    return RedirectResponse("/tienda/ventas?" + urlencode({"tienda": tienda, "q": q} if q else {"tienda": tienda}),
                            status_code=303)
