"""Stores, categories, suppliers, products, stock and sales. Services flush; the caller commits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.db import utcnow
from common.errors import BadInput, Conflict, NotFound
from common.lookup import get_or_404
from common.text import fold
from petshop.app.models import Category, Product, Sale, StockItem, Store, Supplier
from petshop.app.schemas import (
    NamedCreate,
    ProductCreate,
    ProductUpdate,
    SaleCreate,
    StockSet,
    StoreCreate,
    StoreUpdate,
)


@lru_cache(maxsize=8192)  # imports call it per row, over a handful of category and supplier names
def name_key(name: str) -> str:
    """How names compare: case, accents and repeated spaces do not matter ("Alimentación" = "alimentacion")."""
    return fold(name)


# PostgreSQL advisory locks, held to the end of the transaction (SQLite: BEGIN IMMEDIATE already
# admits one writer at a time). Two kinds, always taken in this order, so no two writers wait on
# each other in a circle:
# - a store's stock: every writer of a store's stock rows (an import into it, PUT …/stock/{sku})
#   holds it, so two imports into one store apply one after the other, never interleaved;
# - the catalog: every writer that inserts or changes products (POST /productos/, an import whose
#   file creates or changes a product) holds it, so imports can insert with plain INSERTs and
#   two files touching the same SKUs get true created/updated/unchanged counts. An import that
#   only sets a store's stock for known products never takes it, so imports into different stores
#   run side by side (bench/concurrent_imports.py).
CATALOG_LOCK_KEY = 0x7E7A_0001
STORE_LOCK_NAMESPACE = 0x7E7A_0003  # with the store id: the two-key advisory lock space


def lock_catalog_writes(session: Session) -> None:
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CATALOG_LOCK_KEY})


def lock_store_stock(session: Session, store_id: int) -> None:
    """Wait until no other transaction writes this store's stock, and keep others out until commit."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:namespace, :store)"),
                        {"namespace": STORE_LOCK_NAMESPACE, "store": store_id})


# --- stores ---------------------------------------------------------------------------------


def get_store_or_404(*, session: Session, store_id: int) -> Store:
    return get_or_404(session, Store, store_id, noun="la tienda", code="store_not_found")


def list_stores(*, session: Session, limit: int = 100, offset: int = 0) -> list[Store]:
    return list(session.scalars(select(Store).order_by(Store.name, Store.id).limit(limit).offset(offset)))


def create_store(*, session: Session, store_in: StoreCreate) -> Store:
    store = Store(name=store_in.name.strip(), address=store_in.address.strip())
    session.add(store)
    _flush_unique(session, f"Ya existe una tienda llamada «{store.name}».", code="store_name_taken")
    return store


def update_store(*, session: Session, store: Store, store_in: StoreUpdate) -> Store:
    for field, value in store_in.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(store, field, value.strip())
    _flush_unique(session, f"Ya existe una tienda llamada «{store.name}».", code="store_name_taken")
    return store


def _flush_unique(session: Session, message: str, *, code: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(message, code=code) from None


# --- categories and suppliers ----------------------------------------------------------------

# how a person names each (with its article), and the stem of its error codes
NAMED_NOUNS = {Category: ("la categoría", "category"), Supplier: ("el proveedor", "supplier")}


def list_named(*, session: Session, model: type[Category] | type[Supplier], limit: int = 100, offset: int = 0) -> list:
    return list(session.scalars(select(model).order_by(model.key, model.id).limit(limit).offset(offset)))


def create_named(*, session: Session, model: type[Category] | type[Supplier], item_in: NamedCreate):
    item = model(name=item_in.name.strip(), key=name_key(item_in.name))
    session.add(item)
    _flush_unique(session, f"Ya existe «{item.name}».", code=f"{NAMED_NOUNS[model][1]}_name_taken")
    return item


def _get_named(session: Session, model, item_id: int | None):
    if item_id is None:
        return None
    noun, kind = NAMED_NOUNS[model]
    return get_or_404(session, model, item_id, noun=noun, code=f"{kind}_not_found")


# --- products -------------------------------------------------------------------------------


def get_product_or_404(*, session: Session, product_id: int) -> Product:
    return get_or_404(session, Product, product_id, noun="el producto", code="product_not_found")


def get_product_by_sku(*, session: Session, sku: str) -> Product:
    product = session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"No existe ningún producto con el SKU «{sku}».", code="product_not_found")
    return product


def search_filter(query, q: str | None):
    if q:
        pattern = f"%{q.strip()}%"
        query = query.where(or_(Product.name.ilike(pattern), Product.sku.ilike(pattern)))
    return query


def keyset_page(session: Session, query, *, after_sku: str | None, before_sku: str | None, last: bool, limit: int,
                offset: int = 0) -> list:
    """One page of `query` in SKU order, by position (`offset`) or by cursor: the rows after `after_sku`,
    the rows just before `before_sku`, or the `last` page. A cursor reads `limit` rows off the SKU index
    wherever the page is; an offset walks past every row before it."""
    if after_sku is not None:
        return list(session.scalars(query.where(Product.sku > after_sku).order_by(Product.sku).limit(limit)))
    if before_sku is not None or last:
        if before_sku is not None:
            query = query.where(Product.sku < before_sku)
        return list(reversed(session.scalars(query.order_by(Product.sku.desc()).limit(limit)).all()))
    return list(session.scalars(query.order_by(Product.sku).limit(limit).offset(offset)))


def list_products(
    *, session: Session, q: str | None = None, category_id: int | None = None, supplier_id: int | None = None,
    limit: int = 50, offset: int = 0, after_sku: str | None = None, before_sku: str | None = None, last: bool = False,
) -> list[Product]:
    """Products by name or SKU fragment, category and supplier, ordered by SKU (see `keyset_page`)."""
    query = search_filter(select(Product), q)
    if category_id is not None:
        query = query.where(Product.category_id == category_id)
    if supplier_id is not None:
        query = query.where(Product.supplier_id == supplier_id)
    return keyset_page(session, query, after_sku=after_sku, before_sku=before_sku, last=last, limit=limit, offset=offset)


def create_product(*, session: Session, product_in: ProductCreate) -> Product:
    lock_catalog_writes(session)
    _get_named(session, Category, product_in.category_id)
    _get_named(session, Supplier, product_in.supplier_id)
    product = Product(**product_in.model_dump())
    session.add(product)
    _flush_unique(session, f"Ya existe un producto con el SKU «{product_in.sku}».", code="sku_taken")
    return product


def update_product(*, session: Session, product: Product, product_in: ProductUpdate) -> Product:
    changes = product_in.model_dump(exclude_unset=True)
    _get_named(session, Category, changes.get("category_id"))
    _get_named(session, Supplier, changes.get("supplier_id"))
    for field, value in changes.items():
        if field == "name" and value is None:
            continue
        setattr(product, field, value)
    product.updated_at = utcnow()
    session.flush()
    session.refresh(product)
    return product


# --- stock ----------------------------------------------------------------------------------


def list_stock(
    *, session: Session, store: Store, low: bool = False, q: str | None = None, category_id: int | None = None,
    supplier_id: int | None = None, limit: int = 50, offset: int = 0, after_sku: str | None = None,
    before_sku: str | None = None, last: bool = False,
) -> list[StockItem]:
    """A store's stock in SKU order, optionally only what is at or below its minimum (see `keyset_page`).

    The page is picked from the products, walked in SKU index order, each checked for a stock row in
    the store (EXISTS on the stock key): joining stock to products first made both databases sort the
    whole store's stock for every page, whatever the cursor.
    """
    in_store = select(StockItem.product_id).where(StockItem.store_id == store.id, StockItem.product_id == Product.id)
    if low:
        in_store = in_store.where(StockItem.quantity <= StockItem.min_stock)
    query = search_filter(select(Product.id), q).where(in_store.exists())
    if category_id is not None:
        query = query.where(Product.category_id == category_id)
    if supplier_id is not None:
        query = query.where(Product.supplier_id == supplier_id)
    ids = keyset_page(session, query, after_sku=after_sku, before_sku=before_sku, last=last, limit=limit, offset=offset)
    if not ids:
        return []
    items = {item.product_id: item for item in session.scalars(
        select(StockItem).where(StockItem.store_id == store.id, StockItem.product_id.in_(ids)))}
    return [items[product_id] for product_id in ids if product_id in items]


def set_stock(*, session: Session, store: Store, product: Product, stock_in: StockSet) -> StockItem:
    lock_store_stock(session, store.id)  # the product exists: its row is not written, the catalog lock is not needed
    item = session.scalar(
        select(StockItem).where(StockItem.store_id == store.id, StockItem.product_id == product.id).with_for_update(of=StockItem)
    )
    if item is None:
        item = StockItem(store_id=store.id, product_id=product.id)
        session.add(item)
    item.quantity, item.min_stock, item.price = stock_in.quantity, stock_in.min_stock, stock_in.price
    item.updated_at = utcnow()
    session.flush()
    session.refresh(item)
    return item


# --- sales ----------------------------------------------------------------------------------


def record_sale(*, session: Session, store: Store, sale_in: SaleCreate) -> list[tuple[Sale, str]]:
    """Record sales lines and take the units out of the store's stock; all lines or none."""
    sold_at = sale_in.sold_at or utcnow()
    skus = {line.sku for line in sale_in.lines}
    stock = {
        item.product.sku: item
        for item in session.scalars(
            select(StockItem)
            .join(StockItem.product)
            .where(StockItem.store_id == store.id, Product.sku.in_(skus))
            .with_for_update(of=StockItem)
        )
    }
    missing = sorted(skus - stock.keys())
    if missing:
        raise BadInput(f"Esta tienda no tiene en stock: {', '.join(missing)}.", code="not_stocked")
    sales: list[tuple[Sale, str]] = []
    for line in sale_in.lines:
        item = stock[line.sku]
        if line.quantity > item.quantity:
            raise Conflict(
                f"Solo quedan {item.quantity} unidades de {line.sku} y la venta pide {line.quantity}.",
                code="insufficient_stock",
            )
        item.quantity -= line.quantity
        item.updated_at = utcnow()
        sale = Sale(store_id=store.id, product_id=item.product_id, quantity=line.quantity,
                    unit_price=line.unit_price or item.price, sold_at=sold_at)
        sales.append((sale, line.sku))
    session.add_all(sale for sale, _ in sales)
    session.flush()
    return sales


def list_sales(
    *, session: Session, store: Store, since: datetime | None, until: datetime | None, limit: int, offset: int
) -> list[tuple[Sale, str]]:
    query = (
        select(Sale, Product.sku)
        .join(Product, Product.id == Sale.product_id)
        .where(Sale.store_id == store.id)
        .order_by(Sale.sold_at.desc(), Sale.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if since is not None:
        query = query.where(Sale.sold_at >= since)
    if until is not None:
        query = query.where(Sale.sold_at < until)
    return list(session.execute(query).tuples())


def money(value: Decimal | float | str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
