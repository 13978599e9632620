"""The petshop job kinds an admin can schedule (`/schedules/` on :8004), and the part of storage it cleans."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from common.enqueue import Enqueuer
from common.jobs import Job
from common.schedules.cleanup import CleanupScope, cleanup_kind
from common.schedules.kinds import Kinds, ScheduledKind
from common.security import Principal
from common.types import DbId
from petshop.app import jobs, service
from petshop.app.reports import ReportType


class InventoryReportParams(BaseModel):
    """A report of one store; a sales summary covers the 30 days up to the day it runs."""

    model_config = ConfigDict(extra="forbid")

    store_id: DbId
    report_type: ReportType


def _check_report(*, session: Session, params: InventoryReportParams) -> None:
    service.get_store_or_404(session=session, store_id=params.store_id)


def _submit_report(*, session: Session, enqueuer: Enqueuer, owner: Principal, params: InventoryReportParams) -> Job:
    store = service.get_store_or_404(session=session, store_id=params.store_id)
    return jobs.submit_report(session=session, enqueuer=enqueuer, store=store, report_type=params.report_type,
                              date_from=None, date_to=None, owner=owner)


KINDS = Kinds(jobs.SERVICE, [
    ScheduledKind(
        name="inventory_report",
        description="Informe de inventario de una tienda (stock_low, inventory_value o sales_summary de los "
                    "últimos 30 días), en JSON, CSV y XLSX, como POST /reportes/inventario/.",
        params=InventoryReportParams, submit=_submit_report, check=_check_report,
    ),
    cleanup_kind(),
])

# uploads by date and errores.csv under imports/, report files under reports/<job id>/
CLEANUP = CleanupScope(service=jobs.SERVICE, prefixes=("imports", "reports"))
