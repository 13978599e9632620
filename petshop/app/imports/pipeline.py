"""The inventory import job: parse a supplier's file and apply it to a store's stock in one transaction.

    result = import_inventory(session=..., storage=..., job_id=..., params=..., workdir=..., report_progress=...)

The parsing half (`imports.parse`) yields batches of valid rows and row errors; a writer
(`imports.write.writers`) takes the valid rows to the database through a staging table (`staging`);
failed rows go to an error sink that keeps the first few for the result and streams all of them
to a CSV for download. The caller completes the job in the same transaction, so a redelivered
message finds the job finished and does not apply the file twice.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from common.errors import BadInput
from common.spreadsheet_safety import neutralise
from common.storage import Storage
from common.telemetry import job_metrics
from petshop.app.imports.parse import InventoryFileError, InventoryRow, RowError, open_inventory
from petshop.app.imports.parse.cells import column_letter
from petshop.app.imports.parse.sheet_guard import MEMORY_BUDGET
from petshop.app.imports.write.writers import writer_for

SAMPLE_SIZE = 20
ERRORS_IN_RESULT = 100
#: Unknown column names listed in the result (the rest are counted), and the longest text kept.
COLUMNS_IN_RESULT = 50
TEXT_IN_RESULT = 200

__all__ = ["import_inventory"]


class ErrorSink:
    """Failed rows: the first few kept for the result, all of them streamed to a CSV for download.

    Every cell of the CSV, the header row included, goes through `neutralise`: the file's own
    headers and cells come back in it, and a spreadsheet must not run them as formulas.
    """

    def __init__(self, path: Path, header_names: list[str]):
        self.path = path
        self.header_names = header_names
        self.handle = open(path, "w", newline="", encoding="utf-8-sig")
        self.writer = csv.writer(self.handle)
        self._write(["fila", "sku", "columna", "motivo", *header_names])
        self.kept: list[dict[str, Any]] = []
        self.count = 0

    def add(self, error: RowError) -> None:
        self.count += 1
        if len(self.kept) < ERRORS_IN_RESULT:
            self.kept.append({"row": error.line, "sku": _short(error.sku), "column": _short(error.column),
                              "message": _short(error.message, 500)})
        raw = error.raw or {}
        self._write([error.line, error.sku or "", error.column or "", error.message,
                     *(str(raw.get(name, "")) for name in self.header_names)])

    def _write(self, cells: list[Any]) -> None:
        self.writer.writerow([neutralise(cell) for cell in cells])

    def close(self) -> None:
        self.handle.close()


class FileRejected(BadInput):
    """BadInput for the whole file, with what the failed job's result should carry (the worker records
    `result`): for missing columns, `file_columns` and `missing_fields` so a client can offer a mapping.

    Picklable (Celery pickles the exception before on_failure sees it): `result` travels in __dict__.
    """

    def __init__(self, message: str, *, code: str | None = None, result: dict[str, Any] | None = None):
        super().__init__(message, code=code)
        self.result = result


def _rejected(exc: InventoryFileError, params: dict[str, Any]) -> FileRejected:
    result = None
    if exc.details is not None:
        result = {
            "dry_run": bool(params.get("dry_run")), "file_name": _short(params.get("file_name")),
            "store_id": params["store_id"], "column_map": params.get("column_map"),
            **{k: v for k, v in exc.details.items() if k != "columns"},
            "columns": {k: _short(v) for k, v in exc.details.get("columns", {}).items()},
        }
    return FileRejected(exc.message, code=exc.code, result=result)


def import_inventory(
    *,
    session: Session,
    storage: Storage,
    job_id: str,
    params: dict[str, Any],
    workdir: Path,
    report_progress: Callable[[float], None],
    memory_budget: int = MEMORY_BUDGET,
) -> dict[str, Any]:
    """Import the job's uploaded file into its store (a dry run only counts); returns the job result.

    The readers need a real file: for a bucket, a temporary copy that is gone when the import ends.
    """
    with storage.local_copy(params["file_key"]) as source:
        return _import_file(
            source=source, session=session, storage=storage, job_id=job_id, params=params, workdir=workdir,
            report_progress=report_progress, memory_budget=memory_budget,
        )


def _import_file(
    *,
    source: Path,
    session: Session,
    storage: Storage,
    job_id: str,
    params: dict[str, Any],
    workdir: Path,
    report_progress: Callable[[float], None],
    memory_budget: int,
) -> dict[str, Any]:
    """Import `source` (the job's upload) into its store.

    `memory_budget` is what reading the file may add to the worker (Settings.file_memory_budget_bytes).
    Raises BadInput for a file that cannot be read at all, before or after some rows were parsed;
    the caller's transaction then rolls back whatever was written.
    """
    store_id = params["store_id"]
    started = time.perf_counter()
    try:
        parsed = open_inventory(
            source, sheet=params.get("sheet"), memory_budget=memory_budget,
            column_map=params.get("column_map"),
        )
    except InventoryFileError as exc:
        raise _rejected(exc, params) from None
    opened = time.perf_counter()
    errors = ErrorSink(workdir / "errors.csv", list(parsed.header_names))
    sample: list[dict[str, Any]] = []
    writer_class = writer_for(session)
    with writer_class(session=session, store_id=store_id, dry_run=bool(params.get("dry_run")), workdir=workdir) as writer:
        try:
            for rows, row_errors in parsed.chunks(writer_class.batch_rows, first=writer_class.first_batch_rows):
                for error in row_errors:
                    errors.add(error)
                writer.add(rows)
                if len(sample) < SAMPLE_SIZE:
                    sample += [_sample(row) for row in rows[: SAMPLE_SIZE - len(sample)]]
                report_progress(95 * parsed.fraction_read())
        except InventoryFileError as exc:  # raised mid-file, e.g. by a quote that is never closed
            raise BadInput(exc.message, code=exc.code) from None
        parsed_at = time.perf_counter()
        applied = writer.finish()
    job_metrics.record_import(rows=parsed.total_rows, seconds=time.perf_counter() - started, dry_run=bool(params.get("dry_run")))
    for error in applied.failed:
        errors.add(error)
    errors.close()
    successful = applied.created + applied.updated + applied.unchanged
    result = {
        "task_id": job_id,
        "store_id": store_id,
        "dry_run": bool(params.get("dry_run")),
        "file_name": _short(params.get("file_name")),
        "format": parsed.format, "sheet": _short(parsed.sheet), "encoding": parsed.encoding, "delimiter": parsed.delimiter,
        "header_row": parsed.header_line, "columns": {k: _short(v) for k, v in parsed.columns.items()},
        "column_letters": {k: column_letter(i) for k, i in parsed.column_indexes.items()},
        "column_map": params.get("column_map"),
        "file_columns": parsed.file_columns,
        "unknown_columns": [_short(name) for name in parsed.unknown_columns[:COLUMNS_IN_RESULT]],
        "unknown_columns_total": len(parsed.unknown_columns),
        "unknown_columns_truncated": len(parsed.unknown_columns) > COLUMNS_IN_RESULT,
        "processed_products": sample,
        "total_processed": parsed.total_rows,
        "successful_updates": successful,
        "failed_updates": errors.count,
        "created": applied.created,
        "updated": applied.updated,
        "unchanged": applied.unchanged,
        "errors": errors.kept,
        "errors_total": errors.count,
        "errors_truncated": errors.count > len(errors.kept),
        "errors_csv_url": None,
        "foreign_key_checks": applied.foreign_key_checks,
        "write_started_at": applied.write_started_at,
        "timings": {
            "open": round(opened - started, 3),
            "parse": round(parsed_at - opened, 3),
            **applied.timings,
            "total": round(time.perf_counter() - started, 3),
        },
    }
    if errors.count:
        key = f"imports/{job_id}/errores.csv"
        storage.save_file(errors.path, key=key)
        result["errors_csv_key"] = key
        result["errors_csv_url"] = f"/inventario/task/{job_id}/errores.csv"
    return result


def _short(text: str | None, limit: int = TEXT_IN_RESULT) -> str | None:
    """A user's text cut for the result: names, sheet names and headers can be of any length."""
    return text if text is None or len(text) <= limit else text[: limit - 1] + "…"


def _sample(row: InventoryRow) -> dict[str, Any]:
    return {"sku": row.sku, "name": row.name, "stock": row.stock, "price": float(row.price) if row.price is not None else None}
