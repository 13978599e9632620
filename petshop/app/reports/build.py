"""Build a store's report from the database: one set-based query per table or series, same on both dialects.

Money is exact: every amount is turned into an integer number of cents inside SQL before it is
summed (SQLite keeps Numeric columns as binary floats, so `sum(price * quantity)` could drift), and
comes back as a `Decimal` quantized to 0.01. Dates are UTC calendar days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Date, Float, case, cast, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from common.db import utcnow
from common.errors import BadInput
from common.lookup import not_found
from petshop.app.models import Category, Product, Sale, StockItem, Store, Supplier

CENT = Decimal("0.01")
NO_CATEGORY = "Sin categoría"
NO_SUPPLIER = "Sin proveedor"
DEFAULT_PERIOD_DAYS = 30
# the per-day series lists every day of the period, so the period is bounded
MAX_PERIOD_DAYS = 731
TOP_PRODUCTS = 10
REORDER_RULE = (
    "Reponer hasta el doble del stock mínimo (2 × mínimo − existencias) y, como poco, lo justo para "
    "quedar por encima del mínimo (mínimo − existencias + 1): un producto agotado sin mínimo pide 1 unidad."
)


class ReportType(StrEnum):
    STOCK_LOW = "stock_low"
    INVENTORY_VALUE = "inventory_value"
    SALES_SUMMARY = "sales_summary"


@dataclass
class Report:
    """A finished report: `summary` goes into the job result, the table into the CSV and XLSX files."""

    report_type: ReportType
    title: str  # Spanish, e.g. "Productos con stock bajo — Tienda Centro"
    summary: dict[str, Any]  # JSON-ready: money as "12.50", dates as "2026-01-31"
    columns: list[str]  # Spanish headers
    rows: list[list[Any]]  # str, int, Decimal (money, 2 places) or date cells
    totals: list[Any] | None = field(default=None)  # a closing "Total" row, when the table has one

    def preview(self, limit: int = 50) -> list[dict[str, Any]]:
        """The first `limit` rows as JSON-ready dicts keyed by column, for a job result or an API answer."""
        return [{name: _jsonable(value) for name, value in zip(self.columns, row)} for row in self.rows[:limit]]


def build_report(
    *,
    session: Session,
    store_id: int,
    report_type: ReportType,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Report:
    """Build one report of a store; `date_from`/`date_to` only matter to `sales_summary`.

    Raises NotFound for an unknown store and BadInput for a bad period (see `resolve_period`).
    Read-only: it neither flushes nor commits.
    """
    store = session.get(Store, store_id)
    if store is None:
        raise not_found("la tienda", store_id, code="store_not_found")
    report_type = ReportType(report_type)
    if report_type is ReportType.STOCK_LOW:
        return _stock_low(session, store)
    if report_type is ReportType.INVENTORY_VALUE:
        return _inventory_value(session, store)
    first, last = resolve_period(date_from, date_to)
    return _sales_summary(session, store, first, last)


def resolve_period(date_from: date | None, date_to: date | None, *, today: date | None = None) -> tuple[date, date]:
    """The inclusive UTC period of a sales summary; call it at submit time to answer a bad period with a 4xx.

    Missing both: the last 30 days up to today. Only `date_from`: up to today. Only `date_to`: the
    30 days ending that day. Raises BadInput if the period is reversed or longer than MAX_PERIOD_DAYS.
    """
    today = today or utcnow().date()
    if date_to is None:
        date_to = today
    if date_from is None:
        date_from = date_to - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if date_from > date_to:
        raise BadInput(
            f"La fecha de inicio ({date_from.isoformat()}) es posterior a la de fin ({date_to.isoformat()}).",
            code="period_reversed",
        )
    if (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
        raise BadInput(f"El periodo supera los {MAX_PERIOD_DAYS} días: elige uno más corto.", code="period_too_long")
    return date_from, date_to


# --- stock_low -------------------------------------------------------------------------------------


def reorder_quantity(quantity: int, min_stock: int) -> int:
    """Units to order for a product at or below its minimum; see REORDER_RULE."""
    return max(2 * min_stock - quantity, min_stock - quantity + 1)


def _stock_low(session: Session, store: Store) -> Report:
    """Products at or below their minimum (`quantity <= min_stock`), most urgent first.

    A product with minimum 0 appears only when it has run out. Urgency: out of stock first, then the
    smallest share of the minimum left on hand, then the most units missing, then SKU.
    """
    share_left = case(
        (StockItem.min_stock == 0, 0.0),
        else_=cast(StockItem.quantity, Float) / StockItem.min_stock,
    )
    stmt = (
        select(Product.sku, Product.name, Category.name, Supplier.name, StockItem.quantity, StockItem.min_stock)
        .select_from(StockItem)
        .join(Product, Product.id == StockItem.product_id)
        .outerjoin(Category, Category.id == Product.category_id)
        .outerjoin(Supplier, Supplier.id == Product.supplier_id)
        .where(StockItem.store_id == store.id, StockItem.quantity <= StockItem.min_stock)
        .order_by(
            case((StockItem.quantity == 0, 0), else_=1),
            share_left,
            (StockItem.min_stock - StockItem.quantity).desc(),
            Product.sku,
        )
    )
    rows = []
    for sku, name, category, supplier, quantity, min_stock in session.execute(stmt):
        rows.append([
            sku, name, category or NO_CATEGORY, supplier or NO_SUPPLIER,
            quantity, min_stock, reorder_quantity(quantity, min_stock),
        ])
    to_reorder = sum(row[6] for row in rows)
    return Report(
        report_type=ReportType.STOCK_LOW,
        title=f"Productos con stock bajo — {store.name}",
        summary={
            **_store_fields(store, ReportType.STOCK_LOW),
            "count": len(rows),
            "out_of_stock": sum(1 for row in rows if row[4] == 0),
            "total_to_reorder": to_reorder,
            "reorder_rule": REORDER_RULE,
        },
        columns=["SKU", "Producto", "Categoría", "Proveedor", "Existencias", "Stock mínimo", "A reponer"],
        rows=rows,
        totals=["Total", "", "", "", "", "", to_reorder],
    )


# --- inventory_value -------------------------------------------------------------------------------


def _inventory_value(session: Session, store: Store) -> Report:
    """Value at the store's current price × units on hand, in total and per category, largest first.

    "Productos" counts the products the store stocks, including those at 0 units.
    """
    value = func.coalesce(func.sum(_cents(StockItem.price) * StockItem.quantity), 0)
    stmt = (
        select(Category.name, func.count(StockItem.product_id), func.coalesce(func.sum(StockItem.quantity), 0), value)
        .select_from(StockItem)
        .join(Product, Product.id == StockItem.product_id)
        .outerjoin(Category, Category.id == Product.category_id)
        .where(StockItem.store_id == store.id)
        .group_by(Category.id, Category.name)
    )
    groups = [
        (name or NO_CATEGORY, int(products), int(units), int(cents))
        for name, products, units, cents in session.execute(stmt)
    ]
    groups.sort(key=lambda group: (-group[3], group[0].casefold()))
    products = sum(group[1] for group in groups)
    units = sum(group[2] for group in groups)
    total = _money(sum(group[3] for group in groups))
    return Report(
        report_type=ReportType.INVENTORY_VALUE,
        title=f"Valor del inventario — {store.name}",
        summary={
            **_store_fields(store, ReportType.INVENTORY_VALUE),
            "total_value": _money_text(total),
            "total_units": units,
            "product_count": products,
            "categories": [
                {"category": name, "products": count, "units": qty, "value": _money_text(_money(cents))}
                for name, count, qty, cents in groups
            ],
        },
        columns=["Categoría", "Productos", "Unidades", "Valor"],
        rows=[[name, count, qty, _money(cents)] for name, count, qty, cents in groups],
        totals=["Total", products, units, total],
    )


# --- sales_summary ---------------------------------------------------------------------------------


def _sales_summary(session: Session, store: Store, first: date, last: date) -> Report:
    """Revenue, units and sales lines of the period, its top products by revenue, and revenue per day."""
    start = datetime.combine(first, time.min, UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, UTC)
    in_period = (Sale.store_id == store.id, Sale.sold_at >= start, Sale.sold_at < end)
    revenue = func.coalesce(func.sum(_cents(Sale.unit_price) * Sale.quantity), 0)
    units = func.coalesce(func.sum(Sale.quantity), 0)

    total_cents, total_units, lines = session.execute(
        select(revenue, units, func.count(Sale.id)).where(*in_period)
    ).one()

    top_revenue, top_units = revenue.label("revenue"), units.label("units")
    top = session.execute(
        select(Product.sku, Product.name, top_units, top_revenue)
        .select_from(Sale)
        .join(Product, Product.id == Sale.product_id)
        .where(*in_period)
        .group_by(Product.id, Product.sku, Product.name)
        .order_by(top_revenue.desc(), top_units.desc(), Product.sku)
        .limit(TOP_PRODUCTS)
    ).all()

    day = _utc_day(session, Sale.sold_at)
    per_day = {
        _as_date(sold_on): (int(cents), int(qty))
        for sold_on, cents, qty in session.execute(select(day, revenue, units).where(*in_period).group_by(day))
    }

    rows = [[sku, name, int(qty), _money(cents)] for sku, name, qty, cents in top]
    total = _money(total_cents)
    series = []  # every day of the period, days without sales at zero
    for offset in range((last - first).days + 1):
        sold_on = first + timedelta(days=offset)
        cents, qty = per_day.get(sold_on, (0, 0))
        series.append({"date": sold_on.isoformat(), "revenue": _money_text(_money(cents)), "units": qty})
    return Report(
        report_type=ReportType.SALES_SUMMARY,
        title=f"Resumen de ventas — {store.name}, del {first:%d/%m/%Y} al {last:%d/%m/%Y}",
        summary={
            **_store_fields(store, ReportType.SALES_SUMMARY),
            "date_from": first.isoformat(),
            "date_to": last.isoformat(),
            "revenue": _money_text(total),
            "units": int(total_units),
            "sales_lines": int(lines),
            "top_products": [
                {"sku": sku, "name": name, "units": qty, "revenue": _money_text(amount)}
                for sku, name, qty, amount in rows
            ],
            "revenue_per_day": series,
        },
        columns=["SKU", "Producto", "Unidades", "Ingresos"],
        rows=rows,
        totals=["Total del periodo (todos los productos)", "", int(total_units), total],
    )


# --- helpers ---------------------------------------------------------------------------------------


def _cents(amount: ColumnElement[Decimal]) -> ColumnElement[int]:
    """An amount as whole cents; rounding first absorbs SQLite's float storage (12.34 * 100 = 1233.99…)."""
    return cast(func.round(amount * 100), BigInteger)


def _utc_day(session: Session, moment: ColumnElement[datetime]) -> ColumnElement[date]:
    """The UTC calendar day of a timestamp column."""
    if session.get_bind().dialect.name == "postgresql":
        # a literal, not a bound parameter: PostgreSQL must see the same expression in SELECT and GROUP BY
        return cast(func.timezone(literal_column("'UTC'"), moment), Date)
    return func.date(moment, type_=Date)  # SQLite keeps UTC timestamps as "YYYY-MM-DD HH:MM:SS…" text


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _money(cents: int | Decimal | None) -> Decimal:
    return (Decimal(cents or 0) / 100).quantize(CENT)


def _money_text(amount: Decimal) -> str:
    return format(amount.quantize(CENT), "f")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _money_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _store_fields(store: Store, report_type: ReportType) -> dict[str, Any]:
    return {"report_type": report_type.value, "store_id": store.id, "store_name": store.name}
