"""The staging table of an import, and the statements that apply it whole on SQLite.

The parsed rows are loaded into the TEMP table `petshop_import_rows` (executemany from a spooled
CSV) and `apply_staged` then, in the import's one transaction:

1. fails the rows that cannot create what they name (a new product without a name, a product
   new to the store without a price);
2. counts created / updated / unchanged in one SELECT against the current stock;
3. creates the categories and suppliers named, then upserts products (by SKU) and the store's
   stock (by store and product): INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE changed.

PostgreSQL applies the same rows batch by batch instead (`batches.py`), loaded with COPY.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from common.db import utcnow
from petshop.app.imports.parse import InventoryRow, RowError
from petshop.app.models import Category, Product, StockItem, Supplier
from petshop.app.service import name_key

SQLITE_BATCH = 50_000

_staging_metadata = MetaData()
staging = Table(
    "petshop_import_rows",
    _staging_metadata,
    Column("line", Integer),
    Column("sku", String(64)),
    Column("name", String(300)),
    Column("stock", Integer),
    Column("price", Numeric(12, 2)),
    Column("min_stock", Integer),
    Column("category", String(200)),
    Column("category_key", String(200)),
    Column("supplier", String(200)),
    Column("supplier_key", String(200)),
    prefixes=["TEMPORARY"],
)
STAGING_COLUMNS = [c.name for c in staging.columns]

#: Why a row that names something new cannot create it, by the column that is blank.
NOT_CREATED = {
    "name": "Producto nuevo sin nombre: indica el nombre del producto.",
    "price": "Producto nuevo en esta tienda sin precio: indica el precio.",
}


@dataclass
class BatchResult:
    created: int
    updated: int
    unchanged: int
    failed: list[RowError]


# --- the table -------------------------------------------------------------------------------


def begin(session: Session) -> None:
    """SQLite: the write transaction (BEGIN IMMEDIATE waits for other writers here) and an empty staging table."""
    connection = session.connection()
    staging.drop(connection, checkfirst=True)
    staging.create(connection)


def end(session: Session) -> None:
    staging.drop(session.connection())


def staging_tuple(row: InventoryRow) -> tuple:
    return (
        row.line, row.sku, row.name, row.stock, row.price, row.min_stock,
        row.category, name_key(row.category) if row.category else None,
        row.supplier, name_key(row.supplier) if row.supplier else None,
    )


def load_csv_file(session: Session, rows_path: Path) -> None:
    """SQLite: load a spooled CSV of staging tuples, one executemany per SQLITE_BATCH rows."""
    raw = session.connection().connection.driver_connection
    placeholders = ", ".join("?" * len(STAGING_COLUMNS))
    statement = f"INSERT INTO {staging.name} VALUES ({placeholders})"
    with open(rows_path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        while chunk := [[value or None for value in row] for row in islice(reader, SQLITE_BATCH)]:
            raw.executemany(statement, chunk)


# --- applying ------------------------------------------------------------------------------


def apply_staged(session: Session, *, store_id: int, dry_run: bool) -> BatchResult:
    """Fail what cannot be created, count, and (unless a dry run) write the staged rows."""
    failed = _rows_that_cannot_be_created(session, store_id)
    created, updated, unchanged = _count_changes(session, store_id)
    if not dry_run:
        now = utcnow()
        _create_named(session)
        _upsert_products(session, now)
        _upsert_stock(session, store_id, now)
    return BatchResult(created, updated, unchanged, failed)


def _rows_that_cannot_be_created(session: Session, store_id: int) -> list[RowError]:
    """A blank name, price or stock can leave a known value as it is, but cannot create one: fail those rows."""
    s = staging.c
    known_product = exists().where(Product.sku == s.sku)
    known_stock = (
        exists()
        .where(StockItem.product_id == Product.id, Product.sku == s.sku, StockItem.store_id == store_id)
    )
    checks = [
        (s.name.is_(None) & ~known_product, "name"),
        (s.price.is_(None) & ~known_stock, "price"),
    ]
    failed: list[RowError] = []
    for condition, column in checks:
        rows = session.execute(select(s.line, s.sku).where(condition).order_by(s.line)).all()
        if rows:
            session.execute(staging.delete().where(s.line.in_([line for line, _ in rows])))
            failed += [RowError(line=line, sku=sku, column=column, message=NOT_CREATED[column], raw={}) for line, sku in rows]
    return sorted(failed, key=lambda error: error.line)


def _count_changes(session: Session, store_id: int) -> tuple[int, int, int]:
    s = staging.c
    current = (
        select(
            StockItem.quantity, StockItem.price, StockItem.min_stock, Product.sku, Product.name,
            Product.category_id, Product.supplier_id,
        )
        .join(Product, Product.id == StockItem.product_id)
        .where(StockItem.store_id == store_id)
        .subquery()
    )
    category = Category.__table__.alias("cat")
    supplier = Supplier.__table__.alias("sup")
    joined = (
        staging.outerjoin(current, current.c.sku == s.sku)
        .outerjoin(category, category.c.key == s.category_key)
        .outerjoin(supplier, supplier.c.key == s.supplier_key)
    )
    differs = or_(
        and_(s.stock.is_not(None), current.c.quantity.is_distinct_from(s.stock)),
        and_(s.price.is_not(None), current.c.price.is_distinct_from(s.price)),
        and_(s.min_stock.is_not(None), current.c.min_stock.is_distinct_from(s.min_stock)),
        and_(s.name.is_not(None), current.c.name.is_distinct_from(s.name)),
        and_(s.category_key.is_not(None), current.c.category_id.is_distinct_from(category.c.id)),
        and_(s.supplier_key.is_not(None), current.c.supplier_id.is_distinct_from(supplier.c.id)),
    )
    is_new = current.c.sku.is_(None)
    row = session.execute(
        select(
            func.count().filter(is_new),
            func.count().filter(~is_new & differs),
            func.count().filter(~is_new & ~differs),
        ).select_from(joined)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def _create_named(session: Session) -> None:
    """Categories and suppliers named in the batch and not known yet."""
    s = staging.c
    for model, column_key, column_name in ((Category, s.category_key, s.category), (Supplier, s.supplier_key, s.supplier)):
        statement = sqlite_insert(model).from_select(
            ["name", "key"],
            select(func.min(column_name), column_key).where(column_key.is_not(None)).group_by(column_key),
        )
        session.execute(statement.on_conflict_do_nothing(index_elements=["key"]))


# SQLite: INSERT … ON CONFLICT DO UPDATE … WHERE changed, per table.


def _upsert_products(session: Session, now: datetime) -> None:
    s = staging.c
    category = Category.__table__.alias("cat")
    supplier = Supplier.__table__.alias("sup")
    products = sqlite_insert(Product).from_select(
        ["sku", "name", "category_id", "supplier_id", "created_at", "updated_at"],
        select(s.sku, func.coalesce(s.name, ""), category.c.id, supplier.c.id, literal(now), literal(now))
        .select_from(
            staging.outerjoin(category, category.c.key == s.category_key).outerjoin(supplier, supplier.c.key == s.supplier_key)
        )
    )
    excluded = products.excluded
    table = Product.__table__.c
    new_name = func.coalesce(func.nullif(excluded.name, ""), table.name)
    new_category = func.coalesce(excluded.category_id, table.category_id)
    new_supplier = func.coalesce(excluded.supplier_id, table.supplier_id)
    session.execute(
        products.on_conflict_do_update(
            index_elements=["sku"],
            set_={"name": new_name, "category_id": new_category, "supplier_id": new_supplier, "updated_at": excluded.updated_at},
            where=or_(
                table.name.is_distinct_from(new_name),
                table.category_id.is_distinct_from(new_category),
                table.supplier_id.is_distinct_from(new_supplier),
            ),
        )
    )


def _upsert_stock(session: Session, store_id: int, now: datetime) -> None:
    s = staging.c
    stock_table = StockItem.__table__
    current = stock_table.alias("cur")
    stock = sqlite_insert(StockItem).from_select(
        ["store_id", "product_id", "quantity", "min_stock", "price", "updated_at"],
        select(
            literal(store_id),
            Product.id,
            func.coalesce(s.stock, current.c.quantity, 0),
            func.coalesce(s.min_stock, current.c.min_stock, 0),
            func.coalesce(s.price, current.c.price),
            literal(now),
        )
        .select_from(
            staging.join(Product, Product.sku == s.sku).outerjoin(
                current, and_(current.c.product_id == Product.id, current.c.store_id == store_id)
            )
        ),
    )
    excluded = stock.excluded
    target = stock_table.c
    session.execute(
        stock.on_conflict_do_update(
            index_elements=["store_id", "product_id"],
            set_={"quantity": excluded.quantity, "min_stock": excluded.min_stock, "price": excluded.price,
                  "updated_at": excluded.updated_at},
            where=or_(
                target.quantity.is_distinct_from(excluded.quantity),
                target.min_stock.is_distinct_from(excluded.min_stock),
                target.price.is_distinct_from(excluded.price),
            ),
        )
    )
