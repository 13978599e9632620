"""Request and response bodies of the petshop service."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.jobs import JobStatus
from common.types import ApiDate, ApiDateTime, DbId, Quantity, RequestBody
from common.validation_messages import InvalidValue

Price = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2, examples=["29.99"])]
Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$", examples=["PET001"])]


class Strict(RequestBody):
    """A request body: unknown fields and NUL characters refused (common/types.py)."""


class StoreCreate(Strict):
    name: str = Field(min_length=1, max_length=200, examples=["Tienda Centro"])
    address: str = Field(default="", max_length=300, examples=["Calle Mayor 1, Madrid"])


class StoreUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=300)


class StoreRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    address: str


class NamedCreate(Strict):
    name: str = Field(min_length=1, max_length=200, examples=["Alimentación"])


class NamedRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class ProductCreate(Strict):
    sku: Sku
    name: str = Field(min_length=1, max_length=300, examples=["Alimento para Perros Premium"])
    category_id: DbId | None = None
    supplier_id: DbId | None = None


class ProductUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    category_id: DbId | None = None
    supplier_id: DbId | None = None


class ProductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    category: NamedRead | None
    supplier: NamedRead | None


class StockSet(Strict):
    """The stock of a product in a store, set to these values."""

    quantity: Quantity = Field(examples=[50])
    min_stock: Quantity = Field(default=0, examples=[10])
    price: Price


class StockRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    store_id: int
    product: ProductRead
    quantity: int
    min_stock: int
    price: Decimal
    low: bool = Field(description="At or below its minimum stock")
    updated_at: datetime


class SaleLineIn(Strict):
    sku: Sku
    quantity: Quantity = Field(gt=0, examples=[2])
    unit_price: Price | None = Field(default=None, description="Defaults to the store's current price")


class SaleCreate(Strict):
    lines: list[SaleLineIn] = Field(min_length=1, max_length=500)
    sold_at: ApiDateTime | None = Field(default=None, description="Defaults to now")


class SaleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    store_id: int
    sku: str
    quantity: int
    unit_price: Decimal
    sold_at: datetime


class PriceItem(Strict):
    sku: Sku
    new_price: Decimal = Field(gt=0, lt=Decimal("1e10"), examples=["12.35"], description="Rounded to cents, half up")


class PriceUpdateIn(Strict):
    """Either explicit prices per SKU, or a percentage for a category or supplier, in one store."""

    store_id: DbId = Field(examples=[1])
    items: list[PriceItem] | None = Field(default=None, max_length=100_000)
    percentage: Decimal | None = Field(default=None, gt=-100, le=1000, examples=["5.0"], description="+5 raises 5 %, -10 lowers 10 %")
    category_id: DbId | None = None
    supplier_id: DbId | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> PriceUpdateIn:
        if (self.items is None) == (self.percentage is None):
            raise InvalidValue("indica «items» (una lista de {sku, new_price}) o «percentage», no los dos")
        if self.percentage is not None and (self.category_id is None) == (self.supplier_id is None):
            raise InvalidValue("un porcentaje necesita exactamente uno de «category_id» o «supplier_id»")
        if self.items is not None and (self.category_id is not None or self.supplier_id is not None):
            raise InvalidValue("«category_id» y «supplier_id» van con «percentage», no con «items»")
        return self


class PriceChangeRead(BaseModel):
    sku: str
    name: str
    old_price: Decimal
    new_price: Decimal


class PricePreviewRead(BaseModel):
    """What a bulk price change would do (nothing written): the products whose price changes, first ones listed."""

    store_id: int
    changed: int = Field(description="Products whose price would change")
    unchanged: int = Field(description="Products the change reaches whose price stays the same")
    failed_updates: int = Field(description="SKUs the store does not stock (explicit prices only)")
    changes: list[PriceChangeRead] = Field(description="The first 200 that change, by SKU")
    failed: list[dict[str, str]]


class ReportParams(BaseModel):
    store_id: DbId
    report_type: str
    date_from: ApiDate | None = None
    date_to: ApiDate | None = None


class InventoryTaskRead(BaseModel):
    """An inventory job as the seed's status endpoint shows it: the seed's fields, then ours."""

    task_id: str
    status: JobStatus
    progress: int
    kind: str
    error: str | None = None
    result: dict[str, Any] | None = None
    # the seed's result fields, at top level once the job completed
    processed_products: list[dict[str, Any]] | None = None
    total_processed: int | None = None
    successful_updates: int | None = None
    failed_updates: int | None = None
    created_at: datetime
    finished_at: datetime | None = None


DownloadFormat = Literal["csv", "xlsx"]
