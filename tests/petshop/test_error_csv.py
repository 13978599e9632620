"""errores.csv: every failed row as the user's file had it, and nothing a spreadsheet would run."""

from __future__ import annotations

import csv

from petshop.app.imports.parse import RowError
from petshop.app.imports.pipeline import ErrorSink

EVIL_HEADER = '=HYPERLINK("http://evil.example/x","Oferta")'


def written(tmp_path, header_names, errors) -> list[list[str]]:
    sink = ErrorSink(tmp_path / "errores.csv", header_names)
    for error in errors:
        sink.add(error)
    sink.close()
    with open(tmp_path / "errores.csv", newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


def test_every_cell_a_spreadsheet_would_run_is_neutralised_headers_included(tmp_path):
    headers = ["SKU", "Stock", EVIL_HEADER, "@Notas"]
    rows = written(tmp_path, headers, [
        RowError(line=4, sku="-A1", column="Stock", message="El stock no puede ser negativo",
                 raw={"SKU": "-A1", "Stock": "-1", EVIL_HEADER: "+5", "@Notas": "=1+1"}),
        RowError(line=5, sku="B2", column=EVIL_HEADER, message="-valor no válido",
                 raw={"SKU": "B2", "Stock": "-1,5", EVIL_HEADER: "-2e3", "@Notas": "-1+1"}),
    ])

    assert rows == [
        ["fila", "sku", "columna", "motivo", "SKU", "Stock", "'" + EVIL_HEADER, "'@Notas"],
        ["4", "'-A1", "Stock", "El stock no puede ser negativo", "'-A1", "-1", "+5", "'=1+1"],
        ["5", "B2", "'" + EVIL_HEADER, "'-valor no válido", "B2", "-1,5", "-2e3", "'-1+1"],
    ]
