"""Precios: change a store's prices in bulk — a percentage for a category or supplier, or a list of
SKU and new price — always previewed (old → new, nothing written) before the job that applies it is queued."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse

from console.app.backend import BackendError, SessionExpired
from console.app.forms import in_form_words
from console.app.live import status_events
from console.app.rendering import render
from console.app.session import BackendDep, CsrfChecked, User, require_page

router = APIRouter()
PricesUser = Annotated[User, Depends(require_page("precios"))]
JobId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{8,64}$")]
ACTIVE = {"queued", "processing", "retrying"}
MAX_LINES = 500
SHOWN_CHANGES = 200
FIELD_LABELS = {"percentage": "Porcentaje", "new_price": "precio nuevo", "sku": "SKU", "items": "Precios exactos",
                "category_id": "Categoría", "supplier_id": "Proveedor"}


class PriceFormError(ValueError):
    """The form cannot become a price change; the message is Spanish and names the form's field."""


def parse_percentage(text: str) -> Decimal:
    """'5', '+5', '-10', '2,5' or '2,5 %' as a Decimal."""
    cleaned = text.strip().replace("%", "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise PriceFormError("Escribe el porcentaje como un número: 5 sube un 5 %, -10 baja un 10 %.") from None
    if not value.is_finite() or value == 0:
        raise PriceFormError("El porcentaje tiene que ser un número distinto de 0 (5 sube un 5 %, -10 baja un 10 %).")
    return value


def parse_price_list(text: str) -> list[dict[str, str]]:
    """One «SKU;precio» (or «SKU precio», tab between) a line → [{sku, new_price}]; the price may use a decimal comma."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.replace("€", "").strip()
        if not line:
            continue
        parts = re.split(r"\s*[;\t]\s*|\s+", line)
        if len(parts) < 2:
            raise PriceFormError(f"Línea {number}: escribe el SKU y el precio nuevo separados por «;» (p. ej. PIENSO-001;12,50).")
        sku, price = " ".join(parts[:-1]), parts[-1]
        price = price.replace(".", "").replace(",", ".") if "," in price else price
        try:
            value = Decimal(price)
        except InvalidOperation:
            raise PriceFormError(f"Línea {number}: «{parts[-1]}» no es un precio (p. ej. 12,50).") from None
        if not value.is_finite() or value <= 0:
            raise PriceFormError(f"Línea {number}: el precio de {sku} tiene que ser mayor que 0.")
        items.append({"sku": sku, "new_price": str(value)})
    if not items:
        raise PriceFormError("Escribe al menos una línea con un SKU y su precio nuevo.")
    if len(items) > MAX_LINES:
        raise PriceFormError(f"Como mucho {MAX_LINES} líneas a la vez; divide la lista.")
    return items


def price_body(*, store_id: int, mode: str, percentage: str, category: str, supplier: str, lines: str) -> dict:
    """The form's fields as the petshop API's price change body; PriceFormError says what is missing."""
    if mode == "lista":
        return {"store_id": store_id, "items": parse_price_list(lines)}
    body = {"store_id": store_id, "percentage": str(parse_percentage(percentage))}
    if bool(category) == bool(supplier):
        raise PriceFormError("Elige una categoría o un proveedor (uno de los dos) para aplicar el porcentaje.")
    if category:
        body["category_id"] = int(category)
    else:
        body["supplier_id"] = int(supplier)
    return body


def _form_page(request: Request, backend, user: User, values: dict, *, status_code: int = 200, error: str | None = None,
               preview: dict | None = None):
    stores = backend.get("petshop", "/tiendas/", token=user.token, params={"limit": 500})
    categories = backend.get("petshop", "/categorias/", token=user.token, params={"limit": 500})
    suppliers = backend.get("petshop", "/proveedores/", token=user.token, params={"limit": 500})
    return render(request, "prices.html", status_code=status_code, user=user, stores=stores, categories=categories,
                  suppliers=suppliers, values=values, error=error, preview=preview)


Id = Annotated[str, Form(pattern=r"^\d{0,10}$")]
FormText = Annotated[str, Form(max_length=40)]


@router.get("/tienda/precios")
def prices_form(request: Request, user: PricesUser, backend: BackendDep):
    """The bulk price form: a store, and a percentage for a category or supplier or a list of SKU and price."""
    return _form_page(request, backend, user, {"modo": "porcentaje"})


def price_form(
    tienda: Annotated[int, Form(ge=1, le=2**31 - 1)],
    modo: Annotated[str, Form(pattern="^(porcentaje|lista)$")] = "porcentaje", porcentaje: FormText = "",
    categoria: Id = "", proveedor: Id = "", lista: Annotated[str, Form(max_length=40_000)] = "",
) -> dict:
    """The form's fields as sent (the preview's form sends the same ones back to apply)."""
    return {"tienda": tienda, "modo": modo, "porcentaje": porcentaje, "categoria": categoria, "proveedor": proveedor,
            "lista": lista}


PriceForm = Annotated[dict, Depends(price_form)]


def _send_to_petshop(request: Request, backend, user: User, values: dict, path: str):
    """The form's change sent to petshop at `path`; (answer, None), or (None, the form page with the refusal)."""
    try:
        body = price_body(store_id=values["tienda"], mode=values["modo"], percentage=values["porcentaje"],
                          category=values["categoria"], supplier=values["proveedor"], lines=values["lista"])
        return backend.request("petshop", "POST", path, token=user.token, json=body), None
    except PriceFormError as exc:
        return None, _form_page(request, backend, user, values, status_code=422, error=str(exc))
    except BackendError as exc:
        if isinstance(exc, SessionExpired) or exc.status_code >= 500 or exc.status_code == 403:
            raise
        return None, _form_page(request, backend, user, values, status_code=exc.status_code,
                                error=in_form_words(exc, FIELD_LABELS))


@router.post("/tienda/precios/vista-previa", dependencies=[CsrfChecked])
def preview_prices(request: Request, user: PricesUser, backend: BackendDep, values: PriceForm):
    """Show what the change would do (petshop's preview: nothing is written) with a button to apply exactly that."""
    preview, refused = _send_to_petshop(request, backend, user, values, "/productos/precios/vista-previa")
    return refused or _form_page(request, backend, user, values, preview=preview)


@router.post("/tienda/precios", dependencies=[CsrfChecked])
def apply_prices(request: Request, user: PricesUser, backend: BackendDep, values: PriceForm):
    """Queue the previewed change (the preview's form sends back the same fields) and follow its job."""
    job, refused = _send_to_petshop(request, backend, user, values, "/productos/precios/")
    return refused or RedirectResponse(f"/tienda/precios/{job['task_id']}", status_code=303)


def _job_context(backend, user: User, job_id: str) -> dict:
    job = backend.get("petshop", f"/productos/precios/{job_id}", token=user.token)
    result = job.get("result") or {}
    stores = backend.get("petshop", "/tiendas/", token=user.token, params={"limit": 500})
    return {"user": user, "job": job, "job_id": job_id, "result": result, "active": job["status"] in ACTIVE,
            "changes": (result.get("changes") or [])[:SHOWN_CHANGES],
            "store_name": next((s["name"] for s in stores if s["id"] == result.get("store_id")), None)}


@router.get("/tienda/precios/{job_id}")
def price_job(request: Request, user: PricesUser, backend: BackendDep, job_id: JobId):
    """A bulk price change: its progress while it runs, then old → new per product."""
    return render(request, "price_job.html", **_job_context(backend, user, job_id))


@router.get("/tienda/precios/{job_id}/estado")
def price_job_status(request: Request, user: PricesUser, backend: BackendDep, job_id: JobId):
    """The status block alone, for htmx's refresh (every second while the job is active)."""
    return render(request, "_price_status.html", **_job_context(backend, user, job_id))


@router.get("/tienda/precios/{job_id}/eventos")
async def price_job_events(request: Request, user: PricesUser, backend: BackendDep, job_id: JobId):
    """The status block pushed as Server-Sent Events whenever it changes, until the price change is over."""
    return await status_events(request, "_price_status.html", lambda: _job_context(backend, user, job_id),
                         page=f"/tienda/precios/{job_id}")
