"""Informes: pick a store, a report type and (for sales) a period; watch the job; see its figures and download it."""

from __future__ import annotations

import calendar
import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from console.app.backend import BackendError, SessionExpired
from console.app.live import status_events
from console.app.rendering import render
from console.app.session import BackendDep, CsrfChecked, User, require_page

router = APIRouter()
ReportsUser = Annotated[User, Depends(require_page("informes"))]
JobId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{8,64}$")]
ACTIVE = {"queued", "processing", "retrying"}
#: petshop's report types (petshop/app/reports/build.py ReportType) as the shop calls them
REPORT_TYPES = {"stock_low": "Stock bajo (qué reponer)", "inventory_value": "Valor del inventario",
                "sales_summary": "Resumen de ventas"}
MONEY_COLUMNS = {"Valor", "Ingresos"}


def _form(request: Request, backend, user: User, values: dict, *, status_code: int = 200, error: str | None = None):
    stores = backend.get("petshop", "/tiendas/", token=user.token, params={"limit": 500})
    return render(request, "reports.html", status_code=status_code, user=user, stores=stores, values=values,
                  report_types=REPORT_TYPES, error=error)


@router.get("/tienda/informes")
def reports_form(request: Request, user: ReportsUser, backend: BackendDep):
    """The report form: store, type and, for a sales summary, the period."""
    return _form(request, backend, user, {"tipo": "stock_low"})


@router.post("/tienda/informes", dependencies=[CsrfChecked])
def generate_report(
    request: Request, user: ReportsUser, backend: BackendDep, tienda: Annotated[int, Form(ge=1, le=2**31 - 1)],
    tipo: Annotated[str, Form(pattern="^(stock_low|inventory_value|sales_summary)$")],
    desde: Annotated[date | None, Form()] = None, hasta: Annotated[date | None, Form()] = None,
):
    """Queue the report in petshop and follow it; a bad period comes back in petshop's words."""
    values = {"tienda": tienda, "tipo": tipo, "desde": desde, "hasta": hasta}
    params = {"store_id": tienda, "report_type": tipo}
    if tipo == "sales_summary":
        params |= {"date_from": desde.isoformat() if desde else None, "date_to": hasta.isoformat() if hasta else None}
    try:
        job = backend.request("petshop", "POST", "/reportes/inventario/", token=user.token, params=params)
    except BackendError as exc:
        if isinstance(exc, SessionExpired) or exc.status_code >= 500 or exc.status_code == 403:
            raise
        return _form(request, backend, user, values, status_code=exc.status_code, error=exc.message)
    return RedirectResponse(f"/tienda/informes/{job['task_id']}", status_code=303)


def _chart(result: dict) -> str | None:
    """The sales summary's revenue per day as uPlot data ([[unix seconds…], [euros…]]), JSON for a data attribute."""
    days = result.get("revenue_per_day") or []
    if len(days) < 2:
        return None
    seconds = [calendar.timegm(date.fromisoformat(d["date"]).timetuple()) for d in days]
    return json.dumps([seconds, [float(d["revenue"]) for d in days]])


def _job_context(backend, user: User, job_id: str) -> dict:
    job = backend.get("petshop", f"/reportes/inventario/{job_id}", token=user.token)
    result = job.get("result") or {}
    return {"user": user, "job": job, "job_id": job_id, "result": result, "active": job["status"] in ACTIVE,
            "report_types": REPORT_TYPES, "money_columns": MONEY_COLUMNS,
            "chart": _chart(result) if job["status"] == "completed" else None}


@router.get("/tienda/informes/{job_id}")
def report_job(request: Request, user: ReportsUser, backend: BackendDep, job_id: JobId):
    """A report: its progress while it runs, then its figures, a chart where it helps, and the downloads."""
    return render(request, "report_job.html", **_job_context(backend, user, job_id))


@router.get("/tienda/informes/{job_id}/estado")
def report_job_status(request: Request, user: ReportsUser, backend: BackendDep, job_id: JobId):
    """The status block alone, for htmx's refresh (every second while the job is active)."""
    return render(request, "_report_status.html", **_job_context(backend, user, job_id))


@router.get("/tienda/informes/{job_id}/eventos")
async def report_job_events(request: Request, user: ReportsUser, backend: BackendDep, job_id: JobId):
    """The status block pushed as Server-Sent Events whenever it changes, until the report is over."""
    return await status_events(request, "_report_status.html", lambda: _job_context(backend, user, job_id),
                         page=f"/tienda/informes/{job_id}")


@router.get("/tienda/informes/{job_id}/archivo")
def report_file(user: ReportsUser, backend: BackendDep, job_id: JobId,
                formato: Annotated[str, Query(pattern="^(xlsx|csv)$")] = "xlsx"):
    """The finished report as XLSX or CSV, passed through from petshop."""
    upstream = backend.request("petshop", "GET", f"/reportes/inventario/{job_id}/archivo", token=user.token, raw=True,
                               params={"formato": formato})
    media = "text/csv; charset=utf-8" if formato == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(upstream.content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="informe-{job_id[:8]}.{formato}"'})
