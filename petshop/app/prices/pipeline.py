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


def round_price(value: Decimal) -> Decimal:
    """Cents, rounding half up (12.345 → 12.35); never below one cent."""
    return max(value.quantize(CENT, rounding=ROUND_HALF_UP), CENT)


def apply_price_update(*, session: Session, job_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """Change the prices, all in the caller's transaction; returns old and new price per SKU."""
    spec = PriceUpdateIn.model_validate(params)
    if spec.items is not None:
        targets = {item.sku: round_price(item.new_price) for item in spec.items}
        current = _stock_by_sku(session, spec.store_id, list(targets))
        failed = [{"sku": sku, "message": "SKU desconocido en esta tienda"} for sku in targets if sku not in current]
        planned = {sku: (item, targets[sku]) for sku, item in current.items()}
    else:
        factor = 1 + spec.percentage / 100
        current = _stock_in_group(session, spec.store_id, spec.category_id, spec.supplier_id)
        if not current:
            raise BadInput(
                "Esta tienda no tiene en stock ningún producto de esa categoría o proveedor: no hay precios que cambiar.",
                code="no_products_to_reprice",
            )
        failed = []
        planned = {sku: (item, round_price(item.price * factor)) for sku, item in current.items()}

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


def _stock_by_sku(session: Session, store_id: int, skus: list[str]) -> dict[str, StockItem]:
    found: dict[str, StockItem] = {}
    for start in range(0, len(skus), IN_BATCH):
        batch = skus[start : start + IN_BATCH]
        query = (
            select(Product.sku, StockItem)
            .join(StockItem, StockItem.product_id == Product.id)
            .where(StockItem.store_id == store_id, Product.sku.in_(batch))
            .with_for_update(of=StockItem)
        )
        found.update({sku: item for sku, item in session.execute(query)})
    return found


def _stock_in_group(session: Session, store_id: int, category_id: int | None, supplier_id: int | None):
    query = (
        select(Product.sku, StockItem)
        .join(StockItem, StockItem.product_id == Product.id)
        .where(StockItem.store_id == store_id)
        .with_for_update(of=StockItem)
    )
    if category_id is not None:
        query = query.where(Product.category_id == category_id)
    if supplier_id is not None:
        query = query.where(Product.supplier_id == supplier_id)
    return {sku: item for sku, item in session.execute(query)}
