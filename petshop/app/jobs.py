"""Petshop jobs as the API sees them: submit (check what can be checked now, store the file, queue),
status in the seed's shape for every kind, and the files a finished job produced.

The work itself runs on a worker: `imports.pipeline`, `prices.pipeline`, `reports.pipeline`.
"""

from __future__ import annotations

from datetime import date

from fastapi import UploadFile
from sqlalchemy.orm import Session

from common import jobs
from common.config import Settings
from common.enqueue import Enqueuer
from common.errors import BadInput, NotFound
from common.job_files import DISCARD_WHEN_FINISHED
from common.lookup import get_or_404
from common.security import Principal
from common.storage import Storage
from common.uploads import store_upload
from petshop.app import service
from petshop.app.imports.parse import InventoryFileError, sniff_format
from petshop.app.imports.parse.column_map import ColumnMapError, parse_column_map
from petshop.app.models import Category, Store, Supplier
from petshop.app.prices import pipeline as prices
from petshop.app.reports import ReportType, resolve_period
from petshop.app.schemas import InventoryTaskRead, PriceUpdateIn

SERVICE = "petshop"


def submit_import(
    *, session: Session, enqueuer: Enqueuer, storage: Storage, settings: Settings, store_id: int,
    upload: UploadFile, owner: Principal, dry_run: bool, sheet: str | None, column_map: str | None = None,
) -> jobs.Job:
    """Store the upload, refuse what is plainly not a spreadsheet or a column_map that is not one, and queue its import.

    The store is looked up first (404). The upload is deleted when the import completes, or at once
    if it cannot be queued; a failed or cancelled import keeps it, so an admin can retry the job with the same file.
    """
    store = service.get_store_or_404(session=session, store_id=store_id)
    try:
        mapping = parse_column_map(column_map)
    except ColumnMapError as exc:
        raise BadInput(exc.message, code=exc.code) from None
    enqueuer.ensure_capacity(session=session, owner=owner, upload_bytes=upload.size)  # before storing up to MAX_UPLOAD_MB
    stored, file_format = store_upload(
        storage=storage, upload=upload, prefix="imports", max_bytes=settings.max_upload_bytes,
        sniff=sniff_format, refusals=(InventoryFileError,),
    )
    params = {
        "store_id": store.id, "file_key": stored.key, "file_name": upload.filename, "size": stored.size,
        "sha256": stored.sha256, "format": file_format, "dry_run": dry_run, "sheet": sheet,
        "column_map": mapping,
        DISCARD_WHEN_FINISHED: [stored.key],
    }
    try:
        return enqueuer.submit(
            session=session, kind="inventory_import", task="process_inventory_file", owner=owner, params=params
        )
    except BaseException:  # refused (quota) or not queued (Redis down): nobody will read the file
        storage.delete(stored.key)
        raise


def _check_price_targets(session: Session, price_in: PriceUpdateIn) -> None:
    service.get_store_or_404(session=session, store_id=price_in.store_id)
    for model, item_id in ((Category, price_in.category_id), (Supplier, price_in.supplier_id)):
        if item_id is not None:
            noun, kind = service.NAMED_NOUNS[model]
            get_or_404(session, model, item_id, noun=noun, code=f"{kind}_not_found")


def preview_price_update(*, session: Session, price_in: PriceUpdateIn) -> dict:
    """What a bulk price change would do, written nowhere (its store, category or supplier checked first)."""
    _check_price_targets(session, price_in)
    return prices.preview_price_update(session=session, price_in=price_in)


def submit_price_update(*, session: Session, enqueuer: Enqueuer, price_in: PriceUpdateIn, owner: Principal) -> jobs.Job:
    """Queue a bulk price change after checking its store, category or supplier exist."""
    _check_price_targets(session, price_in)
    return enqueuer.submit(
        session=session, kind="price_update", task="update_product_prices", owner=owner,
        params=price_in.model_dump(mode="json"),
    )


def submit_report(
    *, session: Session, enqueuer: Enqueuer, store: Store, report_type: ReportType, date_from: date | None,
    date_to: date | None, owner: Principal,
) -> jobs.Job:
    """Queue a report of one store; a sales summary's period is fixed now."""
    if report_type is ReportType.SALES_SUMMARY:
        # fixed now, so a retry after midnight reports the same period
        date_from, date_to = resolve_period(date_from, date_to)
    params = {
        "store_id": store.id, "report_type": report_type.value,
        "date_from": date_from.isoformat() if date_from else None, "date_to": date_to.isoformat() if date_to else None,
    }
    return enqueuer.submit(session=session, kind="inventory_report", task="generate_inventory_report", owner=owner, params=params)


def task_status(*, session: Session, task_id: str, user: Principal, kinds: tuple[str, ...] | None = None) -> InventoryTaskRead:
    """A petshop job (of one of `kinds`, when given) in the seed's shape: its result's seed fields at top level."""
    job = jobs.get_visible(session=session, job_id=task_id, user=user, service=SERVICE, kinds=kinds)
    result = job.result or {}
    return InventoryTaskRead(
        task_id=job.id, status=job.status, progress=job.progress, kind=job.kind, error=job.error, result=job.result,
        processed_products=result.get("processed_products"), total_processed=result.get("total_processed"),
        successful_updates=result.get("successful_updates"), failed_updates=result.get("failed_updates"),
        created_at=job.created_at, finished_at=job.finished_at,
    )


def result_file(
    *, session: Session, task_id: str, user: Principal, kinds: tuple[str, ...], key_field: str,
) -> tuple[str, jobs.Job]:
    """The storage key of a file a finished job of one of `kinds` produced (failed rows, a report)."""
    job = jobs.get_visible(session=session, job_id=task_id, user=user, service=SERVICE, kinds=kinds)
    key = (job.result or {}).get(key_field)
    if not key:
        raise NotFound("Este trabajo no tiene ese archivo (o todavía no ha terminado).", code="job_file_not_found")
    return key, job
