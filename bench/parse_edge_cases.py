"""Parsing speed on files that are mostly nothing: the timings the parsing tests used to assert.

Each case is timed through open_inventory and every chunk, against a baseline that only reads the
same file as plainly as Python can (csv.reader over the CSV; the ODS's content.xml inflated). The
ratio is what counts: the tests check what is read, this checks it stays cheap.

    .venv/bin/python bench/parse_edge_cases.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from petshop.app.imports.parse import open_inventory  # noqa: E402
from tests.petshop.conftest import build_ods  # noqa: E402


def _ours(path: Path) -> None:
    parsed = open_inventory(path)
    for _ in parsed.chunks():
        pass


def _csv_baseline(path: Path) -> None:
    with open(path, newline="", encoding="utf-8") as handle:
        for _ in csv.reader(handle):
            pass


def _ods_baseline(path: Path) -> None:
    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as stream:
        while stream.read(1 << 20):
            pass


def _median(function, path: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function(path)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        empty_lines = Path(tmp) / "empty.csv"
        empty_lines.write_text("SKU,Nombre,Stock,Precio\n001,a,1,2\n" + "\n" * 1_000_000 + ",,,\n" * 100_000)
        tail = '<table:table-cell table:number-columns-repeated="16380"/>'
        cells = "".join(f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
                        for v in ("Código", "Nombre", "Cantidad", "Precio"))
        data = "".join(f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
                       for v in ("001", "Pienso", "4", "12,3"))
        rows_xml = (f"<table:table-row>{cells}{tail}</table:table-row><table:table-row>{data}{tail}</table:table-row>"
                    '<table:table-row table:number-rows-repeated="1048570"><table:table-cell '
                    'table:number-columns-repeated="16384"/></table:table-row>')
        repeats = build_ods(Path(tmp) / "repeats.ods", {"Stock": rows_xml})
        for name, path, baseline in (
            ("csv, 1M empty lines + 100k empty rows", empty_lines, _csv_baseline),
            ("ods, LibreOffice's repeated empty rows and columns", repeats, _ods_baseline),
        ):
            ours, base = _median(_ours, path, args.repeat), _median(baseline, path, args.repeat)
            print(f"{name:<52} ours {ours:6.3f}s  baseline {base:6.3f}s  ratio {ours / base:5.1f}x")


if __name__ == "__main__":
    main()
