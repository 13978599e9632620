"""Inventory import: our whole path against the naive baseline, side by side in one run.

Ours: HTTP upload -> Redis -> Celery worker (parse with python-calamine / csv; PostgreSQL: batches
COPYed and applied while the rest of the file is parsed; SQLite: one set-based upsert at the end)
-> rows committed, timed from the upload request to the job's `finished_at` (set in the transaction
that commits the rows), on PostgreSQL and on SQLite. Three cases, each run --repeat times with a
file of SKUs of its own, median reported: new products into a new store; the same products into
another store; the same file again (nothing changes).
On PostgreSQL, the "parse+COPY floor" is our parse and the COPY of every batch and nothing else, in
this process: the target is ours within 10 % of it (ours also pays the upload, the queue and the job's
bookkeeping). Baseline: what many projects ship: pandas.read_excel (openpyxl) or read_csv, then an ORM
select-then-insert/update per row, on the same database.

    .venv/bin/python bench/inventory_import.py                # 100k rows, both databases, both formats
    .venv/bin/python bench/inventory_import.py --rows 20000 --databases sqlite --repeat 1
    .venv/bin/python bench/inventory_import.py --memory-rows 1000000   # + worker peak memory on a 1M-row CSV

Machines here are shared and noisy: read the ratios, not the absolute seconds.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import xlsxwriter  # noqa: E402

from tests.conftest import Client, login  # noqa: E402
from tests.servers import PostgresServer, RedisServer, Stack, wait_until  # noqa: E402

HEADER = ["Código", "Descripción", "Existencias", "PVP", "Stock mínimo", "Categoría", "Proveedor"]
CATEGORIES = ["Alimentación", "Higiene", "Accesorios", "Juguetes", "Farmacia", "Acuariofilia"]
SUPPLIERS = ["Mascotas SL", "PetFood SA", "Distribuciones Can", "Gatos y Cía"]


def inventory_rows(n: int, prefix: int = 0, seed: int = 7):
    """n rows; `prefix` makes a set of SKUs of its own (with leading zeros: "00000042")."""
    rng = random.Random(seed)
    for i in range(n):
        yield [
            f"{prefix}{i:07d}", f"Producto {i} {rng.choice(['perro', 'gato', 'pez', 'ave'])}", rng.randint(0, 500),
            Decimal(rng.randint(50, 20000)) / 100, rng.randint(0, 20), rng.choice(CATEGORIES), rng.choice(SUPPLIERS),
        ]


def write_csv(path: Path, n: int, prefix: int = 0) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for row in inventory_rows(n, prefix):
            writer.writerow([*row[:3], str(row[3]).replace(".", ","), *row[4:]])
    return path


def write_xlsx(path: Path, n: int, prefix: int = 0) -> Path:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("Inventario")
    sheet.write_row(0, 0, HEADER)
    for index, row in enumerate(inventory_rows(n, prefix), start=1):
        sheet.write_string(index, 0, row[0])
        sheet.write_row(index, 1, [row[1], row[2], float(row[3]), *row[4:]])
    workbook.close()
    return path


# --- our path ---------------------------------------------------------------------------------


def ours(client: Client, store_id: int, path: Path, worker=None) -> tuple[float, dict, float]:
    """Upload and wait; returns (seconds, result, peak RSS MiB of the worker's processes)."""
    peak = [0.0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            if worker is not None:
                processes = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
                peak[0] = max(peak[0], *(p.memory_info().rss / 2**20 for p in processes if p.is_running()))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    with open(path, "rb") as handle:
        response = client.post("petshop", "/upload-inventario/", files={"file": (path.name, handle)}, data={"store_id": str(store_id)})
    assert response.status_code == 202, response.text
    uploaded = time.perf_counter()
    task_id = response.json()["task_id"]

    def done():
        body = client.get("petshop", f"/inventario/task/{task_id}").json()
        return body if body["status"] in ("completed", "failed") else None

    # polled gently (every poll costs the API and the database some CPU on a 2-core machine); the
    # time taken is read from the job itself: `finished_at` is when its rows were committed
    job = wait_until(done, timeout=900, interval=0.25, what="import")
    timeline = client.get("petshop", f"/jobs/{task_id}").json()
    elapsed = _seconds(started_at, timeline["finished_at"])
    print(f"  upload answered in {uploaded - started:.2f}s; job queued→started "
          f"{_seconds(timeline['created_at'], timeline['started_at']):.2f}s, started→finished "
          f"{_seconds(timeline['started_at'], timeline['finished_at']):.2f}s", flush=True)
    stop.set()
    sampler.join()
    assert job["status"] == "completed", job
    return elapsed, job["result"], peak[0]


def _seconds(start: str | datetime, end: str) -> float:
    start = start if isinstance(start, datetime) else datetime.fromisoformat(start)
    return (datetime.fromisoformat(end) - start).total_seconds()


# --- the baseline -----------------------------------------------------------------------------


def baseline(database_url: str, store_id: int, path: Path) -> float:
    """pandas + openpyxl/read_csv, then one ORM select and one insert or update per row."""
    import pandas as pd
    from sqlalchemy import select

    from common.config import Settings
    from common.db import make_engine, make_session_factory, session_scope
    from petshop.app.models import Category, Product, StockItem, Supplier
    from petshop.app.service import name_key

    started = time.perf_counter()
    if path.suffix == ".xlsx":
        frame = pd.read_excel(path, engine="openpyxl", dtype={"Código": str})
    else:
        frame = pd.read_csv(path, sep=";", decimal=",", dtype={"Código": str})
    engine = make_engine(Settings(_env_file=None, database_url=database_url))
    with session_scope(make_session_factory(engine)) as session:
        named: dict[tuple[type, str], int] = {}

        def named_id(model, name):
            key = (model, name_key(name))
            if key not in named:
                item = session.scalar(select(model).where(model.key == key[1]))
                if item is None:
                    item = model(name=name, key=key[1])
                    session.add(item)
                    session.flush()
                named[key] = item.id
            return named[key]

        for row in frame.itertuples(index=False):
            sku, name, quantity, price, minimum, category, supplier = row
            product = session.scalar(select(Product).where(Product.sku == sku))
            if product is None:
                product = Product(sku=sku, name=name)
                session.add(product)
            product.name = name
            product.category_id = named_id(Category, category)
            product.supplier_id = named_id(Supplier, supplier)
            session.flush()
            item = session.scalar(select(StockItem).where(StockItem.store_id == store_id, StockItem.product_id == product.id))
            if item is None:
                item = StockItem(store_id=store_id, product_id=product.id)
                session.add(item)
            item.quantity, item.min_stock, item.price = int(quantity), int(minimum), Decimal(str(price))
    engine.dispose()
    return time.perf_counter() - started


def parse_and_copy_floor(database_url: str, fmt: str, rows: int, work: Path, runs: int = 3) -> float:
    """Median seconds of our parse and the COPY of every batch, nothing else, in this process (no
    HTTP, no Celery): what no PostgreSQL writer can beat (bench/import_writer.py's `floor`)."""
    from bench.import_writer import FloorWriter, run_once
    from common.config import Settings
    from common.db import make_engine, make_session_factory
    from common.storage import LocalStorage

    engine = make_engine(Settings(_env_file=None, database_url=database_url))
    floor_dir = work / f"floor-{fmt}"
    floor_dir.mkdir(exist_ok=True)
    seconds = [run_once(make_session_factory(engine), LocalStorage(floor_dir / "files"), floor_dir, 900 + n, rows, fmt, FloorWriter)
               for n in range(runs)]
    engine.dispose()
    return statistics.median(seconds)


# --- the run ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--formats", default="xlsx,csv")
    parser.add_argument("--repeat", type=int, default=3, help="runs of our path per case; the median is reported")
    parser.add_argument("--memory-rows", type=int, default=0, help="also import a CSV of this many rows and report the worker's peak memory")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="timon-bench-"))
    work.chmod(0o755)
    files: dict[str, list[Path]] = {}
    for fmt in args.formats.split(","):
        started = time.perf_counter()
        write = write_xlsx if fmt == "xlsx" else write_csv
        # one file of new SKUs per run of ours, and one for the baseline
        files[fmt] = [write(work / f"inventory{prefix}.{fmt}", args.rows, prefix) for prefix in range(args.repeat + 1)]
        print(f"generated {len(files[fmt])} files of {args.rows:,} rows as {fmt} "
              f"({files[fmt][0].stat().st_size / 2**20:.1f} MiB each) in {time.perf_counter() - started:.1f}s")

    redis = RedisServer(work / "redis", work / "logs").start()
    postgres = None
    lines = []
    try:
        for database in args.databases.split(","):
            if database == "postgresql":
                (work / "pg").mkdir(exist_ok=True)
                postgres = postgres or PostgresServer(work / "pg" / "data").start()
                url = postgres.create_database("bench")
            else:
                url = f"sqlite:///{work / 'bench.db'}"
            stack = Stack(base_dir=work / database, database_url=url, redis_url=redis.url,
                          extra_env={"MAX_UPLOAD_MB": "500", "TASK_SOFT_TIME_LIMIT": "3000", "TASK_TIME_LIMIT": "3600"})
            stack.start()
            try:
                client = Client(stack, login(stack, "admin", stack.admin_password))
                for fmt, paths in files.items():
                    lines += run_format(client, database, fmt, paths, args, url)
                if args.memory_rows:
                    big = write_csv(work / "big.csv", args.memory_rows, prefix=9)
                    store = new_store(client, "memory")
                    seconds, result, peak = ours(client, store, big, worker=stack.workers[0])
                    line = (f"{database:<10} csv   {args.memory_rows:,} rows in {seconds:.1f}s "
                            f"({args.memory_rows / seconds:,.0f} rows/s); largest worker process peak RSS {peak:.0f} MiB (sampled every 20 ms)")
                    print(line, flush=True)
                    lines.append(line)
            finally:
                stack.stop()
    finally:
        redis.stop()
        if postgres:
            postgres.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("\n" + "\n".join(lines))


def new_store(client: Client, name: str) -> int:
    response = client.post("petshop", "/tiendas/", json={"name": f"{name} {time.time_ns()}"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def run_format(client: Client, database: str, fmt: str, paths: list[Path], args, url: str) -> list[str]:
    """Per run: a file of new SKUs into a new store; the same file into a second new store (the
    products are known by then); the same file again into the first store (nothing changes)."""
    runs: dict[str, list[float]] = {"new products": [], "known products, new store": [], "re-import, unchanged": []}
    for path in paths[: args.repeat]:
        store, second = new_store(client, "ours"), new_store(client, "ours, second")
        for case, into, expected in (
            ("new products", store, "created"), ("known products, new store", second, "created"),
            ("re-import, unchanged", store, "unchanged"),
        ):
            seconds, result, _ = ours(client, into, path)
            assert result[expected] == args.rows, result
            runs[case].append(seconds)
            print(f"  {database} {fmt} {case}: {seconds:.2f}s; phases {result['timings']}", flush=True)
    lines = []
    for case, seconds in runs.items():
        middle = statistics.median(seconds)
        line = (f"{database:<10} {fmt:<5} {case:<26} ours {middle:6.2f}s median of {len(seconds)} "
                f"({min(seconds):.2f}–{max(seconds):.2f}) = {args.rows / middle:9,.0f} rows/s")
        if case == "new products" and database == "postgresql":
            floor = parse_and_copy_floor(url, fmt, args.rows, paths[0].parent)
            line += f" | parse+COPY floor {floor:5.2f}s, ours/floor {middle / floor:4.2f}"
        if case == "new products" and not args.no_baseline:
            base = baseline(url, new_store(client, "baseline"), paths[-1])
            line += f" | baseline {base:6.1f}s ({args.rows / base:7,.0f} rows/s) | ours is {base / middle:5.1f}x faster"
        print(line, flush=True)
        lines.append(line)
    return lines


if __name__ == "__main__":
    main()
