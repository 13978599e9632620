"""The report job: build a report in SQL, keep it as CSV and XLSX, and summarise it in the job result."""

from __future__ import annotations

import io
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from common.storage import Storage
from petshop.app.reports.build import ReportType, build_report
from petshop.app.reports.files import write_csv, write_xlsx

PREVIEW_ROWS = 50


def generate_report(*, session: Session, storage: Storage, job_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """Build the report the job asks for and store its files; returns the job result."""
    report = build_report(
        session=session,
        store_id=params["store_id"],
        report_type=ReportType(params["report_type"]),
        date_from=_day(params.get("date_from")),
        date_to=_day(params.get("date_to")),
    )
    csv_buffer = io.BytesIO()
    write_csv(report, csv_buffer)
    csv_file = storage.save_bytes(csv_buffer.getvalue(), key=f"reports/{job_id}/informe.csv")
    with tempfile.TemporaryDirectory(prefix="timon-report-") as workdir:
        path = Path(workdir) / "informe.xlsx"
        write_xlsx(report, path)
        xlsx_file = storage.save_file(path, key=f"reports/{job_id}/informe.xlsx")
    return {
        "task_id": job_id,
        **report.summary,
        "title": report.title,
        "columns": report.columns,
        "rows_total": len(report.rows),
        "preview": report.preview(PREVIEW_ROWS),
        "csv_key": csv_file.key,
        "xlsx_key": xlsx_file.key,
        "csv_url": f"/reportes/inventario/{job_id}/archivo?formato=csv",
        "xlsx_url": f"/reportes/inventario/{job_id}/archivo?formato=xlsx",
    }


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
