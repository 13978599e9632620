"""Inventory reports of one store (low stock, inventory value, sales summary) and their CSV/XLSX files.

`build_report` reads the database with a few set-based queries and returns a `Report`: a JSON-ready
`summary` for the job result, and a table (`columns`, `rows`, `totals`) that `write_csv` and
`write_xlsx` turn into the downloadable files.
"""

from petshop.app.reports.build import (
    MAX_PERIOD_DAYS,
    REORDER_RULE,
    Report,
    ReportType,
    build_report,
    resolve_period,
)
from petshop.app.reports.files import write_csv, write_xlsx

__all__ = [
    "MAX_PERIOD_DAYS",
    "REORDER_RULE",
    "Report",
    "ReportType",
    "build_report",
    "resolve_period",
    "write_csv",
    "write_xlsx",
]
