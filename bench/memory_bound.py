"""Peak memory of a worker child reading hostile files, against the bound (WORKER_PEAK_MEMORY_MB).

Generates families of files built to blow up a reader (zip bombs of shared strings, huge inflated
sheets, styles bombs, many-cell sheets, RGBA / 16-bit / huge PNG, TIFF and JPEG, PDFs with huge
pages, many pages, huge embedded images or a structure only PDFium can repair), each under the upload limit, and reads each one through
the real code path (petshop: open_inventory and every chunk; veterinaria: extract_document with
Tesseract) in a fresh child process that first imports what a worker child imports. Prints the
child's peak RSS (its own VmHWM as it exits) per file, what happened (read, or refused with
its code), and the largest peak against the bound.

    .venv/bin/python bench/memory_bound.py                  # every family
    .venv/bin/python bench/memory_bound.py --only xlsx      # names containing "xlsx"
    .venv/bin/python bench/memory_bound.py --list
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.security import hostile_files as hf  # noqa: E402

MiB = 1 << 20


def _legit_xlsx(path: Path, rows: int, shared: bool) -> Path:
    import xlsxwriter

    from bench.inventory_import import write_xlsx

    if not shared:
        return write_xlsx(path, rows)
    workbook = xlsxwriter.Workbook(str(path))  # the default mode: strings go to sharedStrings.xml, as Excel does
    sheet = workbook.add_worksheet("Inventario")
    from bench.inventory_import import HEADER, inventory_rows

    sheet.write_row(0, 0, HEADER)
    for index, row in enumerate(inventory_rows(rows), start=1):
        sheet.write_string(index, 0, row[0])
        sheet.write_row(index, 1, [row[1], row[2], float(row[3]), *row[4:]])
    workbook.close()
    return path


def _legit_csv(path: Path, rows: int) -> Path:
    from bench.inventory_import import write_csv

    return write_csv(path, rows)


def _wide_csv(path: Path, columns: int) -> Path:
    names = ";".join(f"Columna {i}" for i in range(columns))
    path.write_text(f"SKU;Nombre;Stock;Precio;{names}\n001;Pienso;1;2,5\n", encoding="utf-8")
    return path


def _scan_pdf(path: Path, pages: int) -> Path:
    from PIL import Image, ImageDraw

    page = Image.new("L", (2480, 3508), 255)
    ImageDraw.Draw(page).text((200, 200), "Analitica de Luna, perro. Propietario: Ana Ruiz", fill=0, font_size=60)
    page.save(path, "PDF", resolution=300, save_all=True, append_images=[page] * (pages - 1))
    return path


# (name, pipeline, generator). pipeline "inventory" or "document".
Case = tuple[str, str, Callable[[Path], Path]]
CASES: list[Case] = [
    ("legit xlsx 100k rows, shared strings", "inventory", lambda p: _legit_xlsx(p, 100_000, True)),
    ("legit xlsx 100k rows, inline strings", "inventory", lambda p: _legit_xlsx(p, 100_000, False)),
    ("legit csv 1M rows", "inventory", lambda p: _legit_csv(p, 1_000_000)),
    ("csv 1M column names", "inventory", lambda p: _wide_csv(p, 1_000_000)),
    ("xlsx shared strings 1.5M tiny (near the limit)", "inventory", lambda p: hf.xlsx_many_shared_strings(p, 1_500_000)),
    ("xlsx shared strings 2M tiny", "inventory", lambda p: hf.xlsx_many_shared_strings(p, 2_000_000)),
    ("xlsx shared strings 6M tiny", "inventory", lambda p: hf.xlsx_many_shared_strings(p, 6_000_000)),
    ("xlsx shared string 1 x 300 MiB", "inventory", lambda p: hf.xlsx_long_shared_string(p, 300)),
    ("xlsx shared string 1 x 900 MiB", "inventory", lambda p: hf.xlsx_long_shared_string(p, 900)),
    ("xlsx shared string 8 KiB x 7k cells (near)", "inventory", lambda p: hf.xlsx_cloned_shared_string(p, kib=8, cells=7_000)),
    ("xlsx shared string 8 KiB x 40k cells", "inventory", lambda p: hf.xlsx_cloned_shared_string(p, kib=8, cells=40_000)),
    ("xlsx shared string 64 KiB x 200k cells", "inventory", lambda p: hf.xlsx_cloned_shared_string(p, kib=64, cells=200_000)),
    ("xlsx inline text 1 KiB x 50k rows (near)", "inventory", lambda p: hf.xlsx_inline_text(p, kib=1, rows=50_000)),
    ("xlsx inline text 1 KiB x 200k rows", "inventory", lambda p: hf.xlsx_inline_text(p, kib=1, rows=200_000)),
    ("xlsx inline text 1 KiB x 1M rows", "inventory", lambda p: hf.xlsx_inline_text(p, kib=1, rows=1_000_000)),
    ("xlsx inline text 32 KiB x 30k rows", "inventory", lambda p: hf.xlsx_inline_text(p, kib=32, rows=30_000)),
    ("xlsx many cells 180k x 8 (near)", "inventory", lambda p: hf.xlsx_many_cells(p, rows=180_000, columns=8)),
    ("xlsx many cells 1M x 8", "inventory", lambda p: hf.xlsx_many_cells(p, rows=1_000_000, columns=8)),
    ("xlsx many cells 400k x 50", "inventory", lambda p: hf.xlsx_many_cells(p, rows=400_000, columns=50)),
    ("xlsx styles 3M formats", "inventory", lambda p: hf.xlsx_styles_bomb(p, 3_000_000)),
    ("xlsx styles 12M formats", "inventory", lambda p: hf.xlsx_styles_bomb(p, 12_000_000)),
    ("xlsx defined names 2M", "inventory", lambda p: hf.xlsx_defined_names(p, 2_000_000)),
    ("png grey 8-bit 8600 x 8600 (near)", "document", lambda p: hf.png_blank(p, width=8600, height=8600, color_type=0, bit_depth=8)),
    ("png rgb 8-bit 5400 x 5400 (near)", "document", lambda p: hf.png_blank(p, width=5400, height=5400, color_type=2, bit_depth=8)),
    ("png rgba 8-bit 4500 x 4500 (near)", "document", lambda p: hf.png_blank(p, width=4500, height=4500, color_type=6, bit_depth=8)),
    ("png grey 16-bit 5400 x 5400 (near)", "document", lambda p: hf.png_blank(p, width=5400, height=5400, color_type=0, bit_depth=16)),
    ("png grey 8-bit 10000 x 9999", "document", lambda p: hf.png_blank(p, width=10000, height=9999, color_type=0, bit_depth=8)),
    ("png rgb 8-bit 10000 x 9999", "document", lambda p: hf.png_blank(p, width=10000, height=9999, color_type=2, bit_depth=8)),
    ("png rgba 8-bit 10000 x 9999", "document", lambda p: hf.png_blank(p, width=10000, height=9999, color_type=6, bit_depth=8)),
    ("png rgba 8-bit 6000 x 6000", "document", lambda p: hf.png_blank(p, width=6000, height=6000, color_type=6, bit_depth=8)),
    ("png grey 16-bit 10000 x 9999", "document", lambda p: hf.png_blank(p, width=10000, height=9999, color_type=0, bit_depth=16)),
    ("png rgba 16-bit 7000 x 7000", "document", lambda p: hf.png_blank(p, width=7000, height=7000, color_type=6, bit_depth=16)),
    ("png grey 8-bit 100000 x 1000", "document", lambda p: hf.png_blank(p, width=100_000, height=1000, color_type=0, bit_depth=8)),
    ("tiff rgb 9000 x 9000 deflate", "document",
     lambda p: hf.image_file(p.with_suffix(".tif"), mode="RGB", width=9000, height=9000, compression="tiff_adobe_deflate")),
    ("tiff grey 4000 x 5000 x 40 pages", "document",
     lambda p: hf.image_file(p.with_suffix(".tif"), mode="L", width=4000, height=5000, pages=40, compression="tiff_adobe_deflate")),
    ("tiff cmyk 8000 x 8000 deflate", "document",
     lambda p: hf.image_file(p.with_suffix(".tif"), mode="CMYK", width=8000, height=8000, compression="tiff_adobe_deflate")),
    ("jpeg rgb 12000 x 8000", "document",
     lambda p: hf.image_file(p.with_suffix(".jpg"), mode="RGB", width=12000, height=8000, quality=30)),
    ("jpeg cmyk 9000 x 9000", "document",
     lambda p: hf.image_file(p.with_suffix(".jpg"), mode="CMYK", width=9000, height=9000, quality=30)),
    ("pdf 1 page 14400 x 14400 pt", "document", lambda p: hf.pdf_pages(p, pages=1, width=14400, height=14400)),
    ("pdf 200 blank A4 pages", "document", lambda p: hf.pdf_pages(p, pages=200)),
    ("pdf 200 text A4 pages", "document", lambda p: hf.pdf_pages(p, pages=200, text=True)),
    ("pdf 5 scanned A4 pages", "document", lambda p: _scan_pdf(p, 5)),
    ("pdf image 4500 x 4500 rgb (near)", "document", lambda p: hf.pdf_big_image(p, width=4500, height=4500)),
    ("pdf content 190k operators (near)", "document", lambda p: hf.pdf_content_bomb(p, operators=190_000)),
    ("pdf image 20000 x 20000 rgb", "document", lambda p: hf.pdf_big_image(p, width=20000, height=20000)),
    ("pdf image 12000 x 12000 grey", "document", lambda p: hf.pdf_big_image(p, width=12000, height=12000, components=1)),
    ("pdf content 30M operators", "document", lambda p: hf.pdf_content_bomb(p, operators=30_000_000)),
    # pypdf cannot read these (so cannot measure the page); PDFium repairs them and would load it
    ("pdf no xref, content 1M operators", "document", lambda p: hf.pdf_damaged_structure(p, operators=1_000_000, damage="no_xref")),
    ("pdf no xref, content 30M operators", "document", lambda p: hf.pdf_damaged_structure(p, operators=30_000_000, damage="no_xref")),
    ("pdf bad /Encrypt, content 30M operators", "document",
     lambda p: hf.pdf_damaged_structure(p, operators=30_000_000, damage="bad_encrypt")),
]


# --- the child: one file through the real path --------------------------------------------------


def child(pipeline: str, path: str) -> None:
    import petshop.app.tasks  # noqa: F401  what a worker child has imported
    import veterinaria.app.tasks  # noqa: F401
    from common.config import get_settings

    settings = get_settings()
    if pipeline == "imports-only":
        outcome = {"outcome": "baseline"}
    elif pipeline == "inventory":
        from petshop.app.imports.parse import InventoryFileError, open_inventory

        try:
            parsed = open_inventory(Path(path), memory_budget=settings.file_memory_budget_bytes)
            rows = sum(len(valid) + len(failed) for valid, failed in parsed.chunks())
            outcome = {"outcome": "read", "rows": rows}
        except InventoryFileError as exc:
            outcome = {"outcome": "refused", "code": exc.code, "message": exc.message}
    else:
        from veterinaria.app.documents.read import DocumentError, extract_document

        try:
            text = extract_document(Path(path), max_pages=settings.max_document_pages, workers=1,
                                    memory_budget=settings.file_memory_budget_bytes)
            outcome = {"outcome": "read", "pages": len(text.pages)}
        except DocumentError as exc:
            outcome = {"outcome": "refused", "code": exc.code, "message": exc.message}
    print(json.dumps(outcome, ensure_ascii=False))


def measure(pipeline: str, path: Path | None) -> tuple[float, dict, float]:
    """(peak RSS in MiB, the child's outcome, seconds) of reading `path` in a fresh child process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", pipeline, str(path or "")], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, cwd=ROOT,
    )
    out, err = process.communicate()  # the child prints its outcome, then its own peak
    seconds = time.perf_counter() - started
    lines = out.decode().strip().splitlines()
    if process.returncode != 0 or len(lines) < 2:
        return 0.0, {"outcome": f"crashed (exit {process.returncode})", "message": err.decode()[-300:]}, seconds
    outcome = json.loads(lines[-2])
    peak = json.loads(lines[-1])["peak_kib"] / 1024
    return peak, outcome, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--child", nargs=2, metavar=("PIPELINE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        # VmHWM: this process's own high-water mark (ru_maxrss would include the parent's at fork)
        status = Path("/proc/self/status").read_text()
        peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        print(json.dumps({"peak_kib": peak}))
        return
    cases = [case for case in CASES if args.only in case[0]]
    if args.list:
        print("\n".join(name for name, _, _ in cases))
        return
    from common.config import get_settings

    settings = get_settings()
    bound = settings.worker_peak_memory_mb
    upload_limit = settings.max_upload_bytes
    baseline, _, _ = measure("imports-only", None)
    print(f"bound {bound} MB peak RSS per worker child; upload limit {upload_limit // MiB} MiB; "
          f"a child that has only imported the worker's modules peaks at {baseline:.0f} MiB\n")
    print(f"{'case':<44} {'file':>8} {'peak RSS':>9} {'time':>7}  outcome")
    worst = (0.0, "")
    with tempfile.TemporaryDirectory(prefix="timon-memory-") as tmp:
        for name, pipeline, make in cases:
            path = make(Path(tmp) / "input.bin")
            size = path.stat().st_size
            if size > upload_limit and not name.startswith("legit"):
                print(f"{name:<44} {size / MiB:>6.1f}Mi {'-':>9} {'-':>7}  not run: over the upload limit")
                path.unlink()
                continue
            peak, outcome, seconds = measure(pipeline, path)
            path.unlink()
            said = outcome["outcome"]
            if said == "refused":
                said += f" ({outcome['code']}): {outcome['message'][:70]}…"
            elif said == "read":
                said += f" ({outcome.get('rows', outcome.get('pages'))} {'rows' if 'rows' in outcome else 'pages'})"
            else:
                said += f": {outcome.get('message', '')[-120:]!r}"
            mark = "  OVER" if peak * 1.048576 > bound else ""
            print(f"{name:<44} {size / MiB:>6.1f}Mi {peak:>6.0f}MiB {seconds:>6.1f}s  {said}{mark}", flush=True)
            worst = max(worst, (peak, name))
    print(f"\nlargest peak: {worst[0]:.0f} MiB ({worst[0] * 1.048576:.0f} MB, {worst[1]}) against the bound of {bound} MB: "
          f"{'within' if worst[0] * 1.048576 <= bound else 'OVER'}")


if __name__ == "__main__":
    main()
