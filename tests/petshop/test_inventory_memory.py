"""Files built to exhaust a worker's memory are refused before calamine reads them, with a code.

The memory each one would take is measured by bench/memory_bound.py; here we check the refusal.
"""

from __future__ import annotations

import pytest

from common.errors import BadInput
from common.storage import LocalStorage
from petshop.app.imports.parse import InventoryFileError, open_inventory
from petshop.app.imports.parse.sheet_guard import MEMORY_BUDGET
from petshop.app.imports.pipeline import import_inventory
from tests.security import hostile_files as hf

CASES = {
    "many shared strings": (lambda p: hf.xlsx_many_shared_strings(p, 3_000_000), "spreadsheet_too_large"),
    "a huge shared string": (lambda p: hf.xlsx_long_shared_string(p, 300), "cell_too_long"),
    "a shared string copied into many cells": (
        lambda p: hf.xlsx_cloned_shared_string(p, kib=8, cells=40_000), "spreadsheet_too_large"),
    "an inflated sheet": (lambda p: hf.xlsx_inline_text(p, kib=1, rows=200_000), "spreadsheet_too_large"),
    "many cells": (lambda p: hf.xlsx_many_cells(p, rows=400_000, columns=50), "spreadsheet_too_large"),
    "a styles bomb": (lambda p: hf.xlsx_styles_bomb(p, 3_000_000), "spreadsheet_too_large"),
    "a workbook of defined names": (lambda p: hf.xlsx_defined_names(p, 2_000_000), "spreadsheet_too_large"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_workbook_that_would_exhaust_memory_is_refused_with_a_code(tmp_path, name):
    make, code = CASES[name]
    with pytest.raises(InventoryFileError) as caught:
        open_inventory(make(tmp_path / "bomba.xlsx"), memory_budget=MEMORY_BUDGET)
    assert caught.value.code == code
    assert "MB" in caught.value.message or "32.767" in caught.value.message


def test_the_refusal_reaches_the_job_as_bad_input_with_its_code(tmp_path):
    storage = LocalStorage(tmp_path / "files")
    storage.save_file(hf.xlsx_many_shared_strings(tmp_path / "bomba.xlsx", 3_000_000), key="imports/bomba.xlsx")

    with pytest.raises(BadInput) as caught:  # refused while opening the file: no database reached
        import_inventory(session=None, storage=storage, job_id="j", params={"store_id": 1, "file_key": "imports/bomba.xlsx"},
                         workdir=tmp_path, report_progress=lambda _: None)
    assert caught.value.code == "spreadsheet_too_large"
    assert "demasiado grande" in caught.value.message


def test_a_legit_sheet_of_many_rows_is_still_read(tmp_path):
    rows = lambda: (b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>%07d</t></is></c><c r="B%d" t="inlineStr"><is>'  # noqa: E731
                    b"<t>Pienso para perro adulto</t></is></c><c r=\"C%d\"><v>5</v></c><c r=\"D%d\"><v>12.5</v></c></row>"
                    % (n, n, n, n, n, n) for n in range(2, 100_002))
    parsed = open_inventory(hf.write_xlsx(tmp_path / "grande.xlsx", rows=rows))
    assert sum(len(valid) for valid, _ in parsed.chunks()) == 100_000


def test_the_budget_follows_worker_peak_memory_mb(tmp_path, monkeypatch):
    from common.config import WORKER_BASELINE_MB, Settings

    monkeypatch.setenv("WORKER_PEAK_MEMORY_MB", "300")
    assert Settings().file_memory_budget_bytes == (300 - WORKER_BASELINE_MB) * 1_000_000
    path = hf.xlsx_many_shared_strings(tmp_path / "normal.xlsx", 20_000)  # about 2.4 MB to read
    open_inventory(path, memory_budget=Settings().file_memory_budget_bytes)
    with pytest.raises(InventoryFileError) as caught:
        open_inventory(path, memory_budget=2_000_000)
    assert caught.value.code == "spreadsheet_too_large"
