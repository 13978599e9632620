"""Tables owned by the petshop service."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db import Base, UTCDateTime, utcnow

Money = Numeric(12, 2)


class Store(Base):
    __tablename__ = "petshop_stores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Category(Base):
    __tablename__ = "petshop_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # lower-case, accents removed: "Alimentación" and "alimentacion" are one category
    key: Mapped[str] = mapped_column(String(200), unique=True)


class Supplier(Base):
    __tablename__ = "petshop_suppliers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200), unique=True)


class Product(Base):
    """A product the shop sells, identified by its SKU (text: "00123" is not "123")."""

    __tablename__ = "petshop_products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("petshop_categories.id"), default=None, index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("petshop_suppliers.id"), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category | None] = relationship(lazy="joined")
    supplier: Mapped[Supplier | None] = relationship(lazy="joined")


class StockItem(Base):
    """A product in one store: units on hand, the level to reorder at, and the store's price.

    Keyed by (store, product) itself: a surrogate id would cost every stock row written a sequence
    value and a second unique index, and nothing refers to a stock row but by store and product.
    """

    __tablename__ = "petshop_stock"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("min_stock >= 0", name="min_stock_not_negative"),
        CheckConstraint("price > 0", name="price_positive"),
    )

    store_id: Mapped[int] = mapped_column(ForeignKey("petshop_stores.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("petshop_products.id"), primary_key=True, index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    min_stock: Mapped[int] = mapped_column(Integer, default=0)
    price: Mapped[Decimal] = mapped_column(Money)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship(lazy="joined", innerjoin=True)


class Sale(Base):
    """One sales line: so many units of a product sold in a store at a unit price."""

    __tablename__ = "petshop_sales"
    __table_args__ = (
        Index("ix_petshop_sales_store_id_sold_at", "store_id", "sold_at"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("petshop_stores.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("petshop_products.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    sold_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
