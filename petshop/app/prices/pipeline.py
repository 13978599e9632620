"""Bulk price changes in one store: explicit prices per SKU, or a percentage for a category or supplier."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.db import utcnow
from common.errors import BadInput
from petshop.app.models import Product, StockItem
from petshop.app.schemas import PriceUpdateIn

CENT = Decimal("0.01")
CHANGES_IN_RESULT = 5_000
IN_BATCH = 1_000
PREVIEW_ROWS = 200


def round_price(value: Decimal) -> Decimal:
    """Cents, rounding half up (12.345 → 12.35); never below one cent."""
    return max(value.quantize(CENT, rounding=ROUND_HALF_UP), CENT)


def plan_price_update(*, session: Session, spec: PriceUpdateIn, lock: bool) -> tuple[dict[str, tuple[StockItem, Decimal]], list[dict]]:
    """Each stock row the change touches with its new price (by SKU), and the SKUs it cannot change.

    `lock` takes the rows FOR UPDATE (the job that writes them); a preview reads them plain.
    """
    if spec.items is not None:
        targets = {item.sku: round_price(item.new_price) for item in spec.items}
        current = _stock_by_sku(session, spec.store_id, list(targets), lock=lock)
        failed = [{"sku": sku, "message": "SKU desconocido en esta tienda"} for sku in targets if sku not in current]
        return {sku: (item, targets[sku]) for sku, item in current.items()}, failed
    factor = 1 + spec.percentage / 100
    current = _stock_in_group(session, spec.store_id, spec.category_id, spec.supplier_id, lock=lock)
    if not current:
        raise BadInput(
            "Esta tienda no tiene en stock ningún producto de esa categoría o proveedor: no hay precios que cambiar.",
            code="no_products_to_reprice",
        )
    return {sku: (item, round_price(item.price * factor)) for sku, item in current.items()}, []


def preview_price_update(*, session: Session, price_in: PriceUpdateIn, limit: int = PREVIEW_ROWS) -> dict[str, Any]:
    """What `apply_price_update` would change, written nowhere: the first `limit` products that change
    (SKU, name, old and new price) and the counts."""
    planned, failed = plan_price_update(session=session, spec=price_in, lock=False)
    changing = [
        {"sku": sku, "name": item.product.name, "old_price": str(round_price(item.price)), "new_price": str(new)}
        for sku, (item, new) in sorted(planned.items())
        if item.price != new
    ]
    return {
        "store_id": price_in.store_id,
        "changed": len(changing),
        "unchanged": len(planned) - len(changing),
        "failed_updates": len(failed),
        "changes": changing[:limit],
        "failed": failed[:limit],
    }


def apply_price_update(*, session: Session, job_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """Change the prices, all in the caller's transaction; returns old and new price per SKU."""
    spec = PriceUpdateIn.model_validate(params)
    planned, failed = plan_price_update(session=session, spec=spec, lock=True)

    now = utcnow()
    changes = [
        {"sku": sku, "old_price": str(round_price(item.price)), "new_price": str(new)}
        for sku, (item, new) in sorted(planned.items())
    ]
    to_write = [
        {"store_id": item.store_id, "product_id": item.product_id, "price": new, "updated_at": now}
        for item, new in planned.values()
        if item.price != new
    ]
    if to_write:
        session.execute(update(StockItem), to_write)
    return {
        "task_id": job_id,
        "store_id": spec.store_id,
        "mode": "items" if spec.items is not None else "percentage",
        "percentage": str(spec.percentage) if spec.percentage is not None else None,
        "changed": len(to_write),
        "unchanged": len(planned) - len(to_write),
        "failed_updates": len(failed),
        "changes": changes[:CHANGES_IN_RESULT],
        "changes_total": len(changes),
        "failed": failed[:CHANGES_IN_RESULT],
    }


def _stock_by_sku(session: Session, store_id: int, skus: list[str], *, lock: bool) -> dict[str, StockItem]:
    found: dict[str, StockItem] = {}
    for start in range(0, len(skus), IN_BATCH):
        batch = skus[start : start + IN_BATCH]
        query = (
            select(Product.sku, StockItem)
            .join(StockItem, StockItem.product_id == Product.id)
            .where(StockItem.store_id == store_id, Product.sku.in_(batch))
        )
        if lock:
            query = query.with_for_update(of=StockItem)
        found.update({sku: item for sku, item in session.execute(query)})
    return found


def _stock_in_group(session: Session, store_id: int, category_id: int | None, supplier_id: int | None, *, lock: bool):
    query = (
        select(Product.sku, StockItem)
        .join(StockItem, StockItem.product_id == Product.id)
        .where(StockItem.store_id == store_id)
    )
    if lock:
        query = query.with_for_update(of=StockItem)
    if category_id is not None:
        query = query.where(Product.category_id == category_id)
    if supplier_id is not None:
        query = query.where(Product.supplier_id == supplier_id)
    return {sku: item for sku, item in session.execute(query)}
