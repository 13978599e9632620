"""Productos y stock: a store's stock (or the whole catalogue) searched, filtered and paginated by the petshop API."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request

from console.app.backend import BackendError, BackendNotFound, SessionExpired
from console.app.rendering import render
from console.app.session import BackendDep, CsrfChecked, User, require_page

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
    despues: Annotated[str, Query(max_length=64)] = "",
    antes: Annotated[str, Query(max_length=64)] = "",
    ultima: bool = False,
):
    """A store's stock (or the catalogue), a page at a time by SKU cursor: `despues` (next page),
    `antes` (previous page) or `ultima`, so the last page of a big catalogue costs what the first does."""
    # a select's "Todas" sends an empty value: that is no filter, not a bad request
    categoria, proveedor = _id(categoria), _id(proveedor)
    stores = backend.get("petshop", "/tiendas/", token=user.token, params={"limit": 500})
    categories = backend.get("petshop", "/categorias/", token=user.token, params={"limit": 500})
    suppliers = backend.get("petshop", "/proveedores/", token=user.token, params={"limit": 500})
    store = _pick_store(stores, tienda)
    filters = {"tienda": str(store["id"]) if store else CATALOGUE, "q": q.strip(), "categoria": categoria,
               "proveedor": proveedor, "bajo": bajo if store else False}
    cursor = {"after_sku": despues or None, "before_sku": None if despues else (antes or None),
              "last": "true" if ultima and not (despues or antes) else None}
    page_params = {"q": filters["q"], "category_id": categoria, "supplier_id": proveedor, "limit": PAGE_SIZE + 1, **cursor}
    if store:
        rows = backend.get("petshop", f"/tiendas/{store['id']}/stock/", token=user.token,
                           params={**page_params, "low": "true" if bajo else None})
    else:
        rows = backend.get("petshop", "/productos/", token=user.token, params=page_params)
    rows, has_previous, has_next = _window(rows, backwards=bool(cursor["before_sku"] or cursor["last"]),
                                           after=bool(cursor["after_sku"]), last=bool(cursor["last"]))
    sku = (lambda row: row["product"]["sku"]) if store else (lambda row: row["sku"])
    return render(
        request, "products.html", user=user, stores=stores, store=store, categories=categories, suppliers=suppliers,
        rows=rows, filters=filters,
        first_url=_page_url(filters) if has_previous else None,
        previous_url=_page_url(filters, antes=sku(rows[0])) if has_previous and rows else None,
        next_url=_page_url(filters, despues=sku(rows[-1])) if has_next and rows else None,
        last_url=_page_url(filters, ultima="1") if has_next else None,
    )


def _window(rows: list[dict], *, backwards: bool, after: bool, last: bool) -> tuple[list[dict], bool, bool]:
    """The page's rows (the API was asked for one more than a page) and whether pages lie before and after it."""
    extra = len(rows) > PAGE_SIZE
    if backwards:  # the rows before a cursor, or the last page: the extra row is the earliest
        return (rows[1:] if extra else rows), extra, not last
    return rows[:PAGE_SIZE], after, extra


def _id(value: str) -> int | None:
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


def _pick_store(stores: list[dict], chosen: str | None) -> dict | None:
    """The chosen store, the first one when none is chosen, or None for the catalogue."""
    if chosen == CATALOGUE or not stores:
        return None
    if chosen and chosen.isdigit():
        return next((s for s in stores if s["id"] == int(chosen)), stores[0])
    return stores[0]


def _page_url(filters: dict, **cursor: str) -> str:
    params = {k: ("1" if v is True else v) for k, v in filters.items() if v not in (None, "", False)}
    return "/tienda/productos?" + urlencode({**params, **cursor})


# --- stock edited in place (htmx swaps one table row) ------------------------------------------

Sku = Annotated[str, Query(min_length=1, max_length=64)]


def _stock_item(backend, user: User, store_id: int, sku: str) -> dict:
    found = backend.get("petshop", f"/tiendas/{store_id}/stock/", token=user.token, params={"q": sku, "limit": 500})
    for item in found:
        if item["product"]["sku"] == sku:
            return item
    raise BackendNotFound(f"El producto «{sku}» no tiene stock en esta tienda.")


@router.get("/tienda/stock/fila")
def stock_row(request: Request, user: ShopUser, backend: BackendDep, tienda: Annotated[int, Query(ge=1, le=2**31 - 1)], sku: Sku):
    return render(request, "_stock_row.html", user=user, row=_stock_item(backend, user, tienda, sku))


@router.get("/tienda/stock/editar")
def stock_edit(request: Request, user: ShopUser, backend: BackendDep, tienda: Annotated[int, Query(ge=1, le=2**31 - 1)], sku: Sku):
    row = _stock_item(backend, user, tienda, sku)
    values = {"quantity": row["quantity"], "min_stock": row["min_stock"], "price": str(row["price"]).replace(".", ",")}
    return render(request, "_stock_edit.html", user=user, row=row, values=values)


@router.post("/tienda/stock", dependencies=[CsrfChecked])
def stock_save(
    request: Request, user: ShopUser, backend: BackendDep, tienda: Annotated[int, Form(ge=1, le=2**31 - 1)],
    sku: Annotated[str, Form(min_length=1, max_length=64)], quantity: Annotated[str, Form(max_length=20)] = "",
    min_stock: Annotated[str, Form(max_length=20)] = "", price: Annotated[str, Form(max_length=20)] = "",
):
    """Set a product's units, minimum and price in a store (the API's PUT), and answer with the updated row."""
    values = {"quantity": quantity, "min_stock": min_stock, "price": price}
    body = {"quantity": _whole(quantity), "min_stock": _whole(min_stock), "price": _decimal(price)}
    try:
        saved = backend.request("petshop", "PUT", f"/tiendas/{tienda}/stock/{quote(sku, safe='')}", token=user.token, json=body)
    except BackendError as exc:
        if isinstance(exc, SessionExpired) or exc.status_code >= 500 or exc.status_code in (403, 404):
            raise
        row = _stock_item(backend, user, tienda, sku)
        error = " ".join(_in_form_words(e) for e in exc.field_errors) or exc.message
        return render(request, "_stock_edit.html", status_code=200, user=user, row=row, values=values, error=error)
    return render(request, "_stock_row.html", user=user, row=saved)


STOCK_LABELS = {"quantity": "Unidades", "min_stock": "Mínimo", "price": "Precio"}


def _in_form_words(error: dict[str, str]) -> str:
    """The API names a field as its JSON key («price»); the form calls it by its label («Precio»)."""
    field = error["field"].split(".")[-1]
    return error["message"].replace(f"«{field}»", f"«{STOCK_LABELS.get(field, field)}»")


def _whole(text: str) -> int | str:
    """'12' -> 12; anything else goes to the API as typed, so its Spanish message names the problem."""
    text = text.strip()
    return int(text) if text.isdigit() else text


def _decimal(text: str) -> str:
    """A price as the shop writes it ('1.234,56' or '7,95') in the API's form ('1234.56')."""
    text = text.strip().replace(" ", "").replace("€", "")
    return text.replace(".", "").replace(",", ".") if "," in text else text
