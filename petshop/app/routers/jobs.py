"""The seed's petshop job endpoints: inventory upload, bulk prices, reports, and their status.

Each kind of job is followed where its submission was made: an import at `/inventario/task/{id}`
(the seed's route, which still answers for any petshop job), a price update at
`/productos/precios/{id}`, a report at `/reportes/inventario/{id}`; those two answer only for
jobs of their own kind.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import StreamingResponse

from common.downloads import file_download
from common.enqueue import EnqueuerDep
from common.jobs import JobAccepted
from common.types import ApiDate, DbId, SafeText
from common.web import InSession, SessionDep, SettingsDep, StorageDep
from petshop.app import jobs, service
from petshop.app.deps import ShopStaff
from petshop.app.reports import ReportType
from petshop.app.schemas import DownloadFormat, InventoryTaskRead, PricePreviewRead, PriceUpdateIn

router = APIRouter()

ACCEPTED = {
    413: {"description": "File over the size limit"},
    422: {"description": "Not a CSV/XLSX/ODS file, or a malformed request"},
    429: {"description": "You already have the most unfinished jobs allowed (`job_quota_exceeded`); see Retry-After"},
    503: {"description": "The job queue is unreachable; nothing was queued"},
}
NOT_FOUND = {404: {"description": "No such store, category or supplier"}}
NOT_YOURS = {404: {"description": "No such job of this kind, or not yours"}}
IMPORT, PRICES, REPORT = "inventory_import", "price_update", "inventory_report"


@router.post("/upload-inventario/", response_model=JobAccepted, status_code=status.HTTP_202_ACCEPTED, responses=ACCEPTED, tags=["inventory"])
async def upload_inventory(
    file: Annotated[UploadFile, File(description="CSV (`,` `;` or tab), XLSX or ODS from a supplier")],
    store_id: Annotated[DbId, Form(description="The store whose stock the file sets")],
    user: ShopStaff, in_session: InSession, enqueuer: EnqueuerDep, storage: StorageDep, settings: SettingsDep,
    dry_run: Annotated[bool, Form(description="Check and count only; write nothing")] = False,
    sheet: Annotated[SafeText | None, Form(max_length=200, description="Sheet to read (default: the first visible one)")] = None,
    column_map: Annotated[str | None, Form(max_length=4000, description=(
        'JSON {field: column}, e.g. {"price": "Importe", "sku": "A"}: fields sku, name, stock, price, min_stock, '
        "category, supplier; a column by its header text exactly as in the file or by its letter. "
        "Overrides the detected column for those fields"))] = None,
):
    """Queue an inventory file for import into one store; follow it at `GET /inventario/task/{task_id}`.

    Rows are upserted by SKU: stock, price, minimum stock, name, category and supplier. Rows with
    problems are reported (row number, SKU, column, reason) and can be downloaded as CSV; the
    valid rows still go in.
    """
    job = await in_session(
        jobs.submit_import, enqueuer=enqueuer, storage=storage, settings=settings, store_id=store_id, upload=file,
        owner=user, dry_run=dry_run, sheet=sheet, column_map=column_map,
    )
    return JobAccepted(task_id=job.id, status_url=f"/inventario/task/{job.id}")


@router.get("/inventario/task/{task_id}", response_model=InventoryTaskRead, responses=NOT_YOURS, tags=["inventory"])
async def read_inventory_task(task_id: str, user: ShopStaff, in_session: InSession):
    """Status, progress and result of an inventory import (the seed's route: it shows any petshop job)."""
    return await in_session(jobs.task_status, task_id=task_id, user=user)


@router.get("/inventario/task/{task_id}/errores.csv", response_class=StreamingResponse, tags=["inventory"])
def download_failed_rows(task_id: str, user: ShopStaff, session: SessionDep, storage: StorageDep):
    """Every failed row of an import, with its row number and the reason, as CSV."""
    key, _ = jobs.result_file(session=session, task_id=task_id, user=user, kinds=(IMPORT,), key_field="errors_csv_key")
    return file_download(storage=storage, key=key, media_type="text/csv", filename=f"errores-{task_id[:8]}.csv")


@router.post("/productos/precios/", response_model=JobAccepted, status_code=status.HTTP_202_ACCEPTED, responses=ACCEPTED, tags=["inventory"])
def update_prices(price_in: PriceUpdateIn, user: ShopStaff, session: SessionDep, enqueuer: EnqueuerDep):
    """Queue a bulk price change in one store: `items` [{sku, new_price}], or a `percentage` for a category or supplier.

    Prices are rounded to cents (half up). The result lists old and new price per SKU; unknown SKUs are listed as failed.
    """
    job = jobs.submit_price_update(session=session, enqueuer=enqueuer, price_in=price_in, owner=user)
    return JobAccepted(task_id=job.id, status_url=f"/productos/precios/{job.id}")


@router.post("/productos/precios/vista-previa", response_model=PricePreviewRead, responses=NOT_FOUND, tags=["inventory"])
def preview_prices(price_in: PriceUpdateIn, _user: ShopStaff, session: SessionDep):
    """What `POST /productos/precios/` with this body would change, without changing anything:
    old and new price of the first 200 products that change, and the counts."""
    return jobs.preview_price_update(session=session, price_in=price_in)


@router.get("/productos/precios/{task_id}", response_model=InventoryTaskRead, responses=NOT_YOURS, tags=["inventory"])
async def read_price_update(task_id: str, user: ShopStaff, in_session: InSession):
    """Status and result of a bulk price change: old and new price per SKU once completed."""
    return await in_session(jobs.task_status, task_id=task_id, user=user, kinds=(PRICES,))


@router.post("/reportes/inventario/", response_model=JobAccepted, status_code=status.HTTP_202_ACCEPTED, responses=ACCEPTED, tags=["reports"])
def generate_inventory_report(
    store_id: DbId, report_type: ReportType, user: ShopStaff, session: SessionDep, enqueuer: EnqueuerDep,
    date_from: Annotated[ApiDate | None, Query(description="sales_summary: first day (default: 30 days ago)")] = None,
    date_to: Annotated[ApiDate | None, Query(description="sales_summary: last day, inclusive (default: today)")] = None,
):
    """Queue a report: `stock_low`, `inventory_value` or `sales_summary`; JSON in the job, CSV and XLSX to download."""
    store = service.get_store_or_404(session=session, store_id=store_id)
    job = jobs.submit_report(
        session=session, enqueuer=enqueuer, store=store, report_type=report_type, date_from=date_from,
        date_to=date_to, owner=user,
    )
    return JobAccepted(task_id=job.id, status_url=f"/reportes/inventario/{job.id}")


@router.get("/reportes/inventario/{task_id}", response_model=InventoryTaskRead, responses=NOT_YOURS, tags=["reports"])
async def read_report(task_id: str, user: ShopStaff, in_session: InSession):
    """Status of a report; once completed, its result has the summary, a preview and the download links."""
    return await in_session(jobs.task_status, task_id=task_id, user=user, kinds=(REPORT,))


@router.get("/reportes/inventario/{task_id}/archivo", response_class=StreamingResponse, tags=["reports"])
def download_report(task_id: str, user: ShopStaff, session: SessionDep, storage: StorageDep, formato: DownloadFormat = "xlsx"):
    """A finished report as `xlsx` (default) or `csv`."""
    key, _ = jobs.result_file(session=session, task_id=task_id, user=user, kinds=(REPORT,), key_field=f"{formato}_key")
    media = "text/csv" if formato == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return file_download(storage=storage, key=key, media_type=media, filename=f"informe-{task_id[:8]}.{formato}")
