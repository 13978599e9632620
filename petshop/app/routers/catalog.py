"""Stores, categories, suppliers, products, stock and sales: the CRUD shop staff need."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from common.types import ApiDate, DbId, Offset, SafeText
from common.web import SessionDep
from petshop.app import service
from petshop.app.deps import Admin, ShopStaff, ValidStore
from petshop.app.models import Category, Supplier
from petshop.app.schemas import (
    NamedCreate,
    NamedRead,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    SaleCreate,
    SaleRead,
    StockRead,
    StockSet,
    StoreCreate,
    StoreRead,
    StoreUpdate,
)

router = APIRouter()
Limit = Annotated[int, Query(ge=1, le=500)]
AfterSku = Annotated[SafeText | None, Query(max_length=64, description="Cursor: the rows after this SKU (a page's last)")]
BeforeSku = Annotated[SafeText | None, Query(max_length=64, description="Cursor: the rows just before this SKU (a page's first)")]
LastPage = Annotated[bool, Query(description="The last page (its rows still in SKU order)")]


@router.get("/tiendas/", response_model=list[StoreRead], tags=["stores"])
def list_stores(_user: ShopStaff, session: SessionDep, limit: Limit = 100, offset: Offset = 0):
    """Stores by name, a page at a time (`limit` up to 500)."""
    return service.list_stores(session=session, limit=limit, offset=offset)


@router.post("/tiendas/", response_model=StoreRead, status_code=status.HTTP_201_CREATED, tags=["stores"])
def create_store(store_in: StoreCreate, _admin: Admin, session: SessionDep):
    """Open a store (admin only)."""
    return service.create_store(session=session, store_in=store_in)


@router.get("/tiendas/{store_id}", response_model=StoreRead, tags=["stores"])
def read_store(store: ValidStore, _user: ShopStaff):
    """One store."""
    return store


@router.patch("/tiendas/{store_id}", response_model=StoreRead, tags=["stores"])
def update_store(store_in: StoreUpdate, _admin: Admin, store: ValidStore, session: SessionDep):
    """Rename a store or change its address (admin only)."""
    return service.update_store(session=session, store=store, store_in=store_in)


@router.get("/categorias/", response_model=list[NamedRead], tags=["catalog"])
def list_categories(_user: ShopStaff, session: SessionDep, limit: Limit = 100, offset: Offset = 0):
    """Product categories by name, a page at a time (`limit` up to 500)."""
    return service.list_named(session=session, model=Category, limit=limit, offset=offset)


@router.post("/categorias/", response_model=NamedRead, status_code=status.HTTP_201_CREATED, tags=["catalog"])
def create_category(category_in: NamedCreate, _user: ShopStaff, session: SessionDep):
    """Add a category (imports also create the ones a file names)."""
    return service.create_named(session=session, model=Category, item_in=category_in)


@router.get("/proveedores/", response_model=list[NamedRead], tags=["catalog"])
def list_suppliers(_user: ShopStaff, session: SessionDep, limit: Limit = 100, offset: Offset = 0):
    """Suppliers by name, a page at a time (`limit` up to 500)."""
    return service.list_named(session=session, model=Supplier, limit=limit, offset=offset)


@router.post("/proveedores/", response_model=NamedRead, status_code=status.HTTP_201_CREATED, tags=["catalog"])
def create_supplier(supplier_in: NamedCreate, _user: ShopStaff, session: SessionDep):
    """Add a supplier (imports also create the ones a file names)."""
    return service.create_named(session=session, model=Supplier, item_in=supplier_in)


@router.get("/productos/", response_model=list[ProductRead], tags=["catalog"])
def list_products(
    _user: ShopStaff, session: SessionDep, q: Annotated[str | None, Query(max_length=100, description="Part of the name or SKU")] = None,
    category_id: DbId | None = None, supplier_id: DbId | None = None, limit: Limit = 50, offset: Offset = 0,
    after_sku: AfterSku = None, before_sku: BeforeSku = None, last: LastPage = False,
):
    """Products in SKU order, searchable by name or SKU and filtered by category or supplier.

    Page by `offset`, or, fast at any depth, by cursor: `after_sku` (the next page), `before_sku`
    (the previous one) or `last`.
    """
    return service.list_products(
        session=session, q=q, category_id=category_id, supplier_id=supplier_id, limit=limit, offset=offset,
        after_sku=after_sku, before_sku=before_sku, last=last,
    )


@router.post("/productos/", response_model=ProductRead, status_code=status.HTTP_201_CREATED, tags=["catalog"])
def create_product(product_in: ProductCreate, _user: ShopStaff, session: SessionDep):
    """Add a product by SKU."""
    return service.create_product(session=session, product_in=product_in)


@router.get("/productos/{product_id}", response_model=ProductRead, tags=["catalog"])
def read_product(product_id: DbId, _user: ShopStaff, session: SessionDep):
    """One product."""
    return service.get_product_or_404(session=session, product_id=product_id)


@router.patch("/productos/{product_id}", response_model=ProductRead, tags=["catalog"])
def update_product(product_id: DbId, product_in: ProductUpdate, _user: ShopStaff, session: SessionDep):
    """Rename a product or change its category or supplier."""
    product = service.get_product_or_404(session=session, product_id=product_id)
    return service.update_product(session=session, product=product, product_in=product_in)


def _stock_read(item) -> StockRead:
    return StockRead.model_validate(
        {**{k: getattr(item, k) for k in ("store_id", "product", "quantity", "min_stock", "price", "updated_at")},
         "low": item.quantity <= item.min_stock}
    )


@router.get("/tiendas/{store_id}/stock/", response_model=list[StockRead], tags=["stock"])
def list_stock(
    store: ValidStore, _user: ShopStaff, session: SessionDep,
    low: Annotated[bool, Query(description="Only products at or below their minimum stock")] = False,
    q: Annotated[str | None, Query(max_length=100)] = None, category_id: DbId | None = None,
    supplier_id: DbId | None = None, limit: Limit = 50, offset: Offset = 0,
    after_sku: AfterSku = None, before_sku: BeforeSku = None, last: LastPage = False,
):
    """A store's stock in SKU order: units, minimum and price per product, filtered by name or SKU,
    category, supplier or low stock; paged by `offset` or by cursor (`after_sku`, `before_sku`, `last`)."""
    items = service.list_stock(
        session=session, store=store, low=low, q=q, category_id=category_id, supplier_id=supplier_id,
        limit=limit, offset=offset, after_sku=after_sku, before_sku=before_sku, last=last,
    )
    return [_stock_read(item) for item in items]


@router.put("/tiendas/{store_id}/stock/{sku}", response_model=StockRead, tags=["stock"])
def set_stock(sku: Annotated[SafeText, Path(max_length=64)], stock_in: StockSet, store: ValidStore, _user: ShopStaff, session: SessionDep):
    """Set one product's units, minimum and price in a store."""
    product = service.get_product_by_sku(session=session, sku=sku)
    return _stock_read(service.set_stock(session=session, store=store, product=product, stock_in=stock_in))


@router.post("/tiendas/{store_id}/ventas/", response_model=list[SaleRead], status_code=status.HTTP_201_CREATED, tags=["sales"])
def record_sale(sale_in: SaleCreate, store: ValidStore, _user: ShopStaff, session: SessionDep):
    """Record a sale (one or more lines); the units come out of the store's stock."""
    return [_sale_read(sale, sku) for sale, sku in service.record_sale(session=session, store=store, sale_in=sale_in)]


@router.get("/tiendas/{store_id}/ventas/", response_model=list[SaleRead], tags=["sales"])
def list_sales(
    store: ValidStore, _user: ShopStaff, session: SessionDep, date_from: ApiDate | None = None, date_to: ApiDate | None = None,
    limit: Limit = 100, offset: Offset = 0,
):
    """A store's sales lines, newest first, optionally between two dates (inclusive)."""
    since = datetime.combine(date_from, time.min, UTC) if date_from else None
    until = datetime.combine(date_to + timedelta(days=1), time.min, UTC) if date_to else None
    rows = service.list_sales(session=session, store=store, since=since, until=until, limit=limit, offset=offset)
    return [_sale_read(sale, sku) for sale, sku in rows]


def _sale_read(sale, sku: str) -> SaleRead:
    return SaleRead(id=sale.id, store_id=sale.store_id, sku=sku, quantity=sale.quantity, unit_price=sale.unit_price, sold_at=sale.sold_at)
