"""Concurrent imports into different stores: 4 at once against 1 alone, ours against the old global lock.

Each import is our pipeline (`imports.pipeline.import_inventory`, the job body without Celery) in a
process of its own, started together on a barrier, each into its own store, each committing its
own transaction. Two kinds of file, --rows rows each:

- stock only: SKUs the catalog already has, with the same names (a store's weekly stock file):
  ours takes only the store's lock, so the four write side by side;
- new products: each file creates its own SKUs: ours takes the catalog lock from its first batch
  to its commit (it inserts products), so their writes take turns; the parsing still overlaps.

"global lock" is the same pipeline with the catalog lock taken for the whole file, as every import
did before (`lock_catalog_writes` at the start of the transaction). Printed per case: one import
alone, four at once (until the last commits), and the ratio: 1.0x would be four for the price of
one; 2.0x is what two cores allow for four CPU-bound imports; 4.0x is one after the other.

    .venv/bin/python bench/concurrent_imports.py                 # PostgreSQL, 50k rows, 2 rounds
    .venv/bin/python bench/concurrent_imports.py --rows 20000 --rounds 1
    .venv/bin/python bench/concurrent_imports.py --database sqlite   # one writer: the writes serialise

On SQLite the database admits one writer (our transactions BEGIN IMMEDIATE), so the writes of
four imports always take turns; only their parsing (outside the transaction) overlaps.
The machine has 2 cores and is shared: read the ratios, not the absolute seconds.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.inventory_import import write_csv  # noqa: E402
from tests.servers import PostgresServer  # noqa: E402

PARALLEL = 4


def import_one(database_url: str, files: Path, key: str, store_id: int, global_lock: bool, barrier, out) -> None:
    """In a child process: wait for the others, import one file into one store, report (seconds, result)."""
    from common.config import Settings
    from common.db import make_engine, make_session_factory, session_scope
    from common.storage import LocalStorage
    from petshop.app.imports import pipeline
    from petshop.app.service import lock_catalog_writes

    engine = make_engine(Settings(_env_file=None, database_url=database_url))
    sessions = make_session_factory(engine)
    workdir = Path(tempfile.mkdtemp(prefix="import-", dir=files.parent))
    barrier.wait()
    started = time.perf_counter()
    with session_scope(sessions) as session:
        if global_lock:
            lock_catalog_writes(session)  # the old rule: one import at a time, whatever the store
        locked = time.perf_counter() - started
        result = pipeline.import_inventory(
            session=session, storage=LocalStorage(files), job_id=f"bench-{key}", workdir=workdir,
            params={"store_id": store_id, "file_key": key}, report_progress=lambda _value: None,
        )
    out.put((time.perf_counter() - started, result["created"], locked + result["timings"].get("wait_for_lock", 0.0)))
    engine.dispose()


def run(database_url: str, files: Path, keys: list[str], stores: list[int], global_lock: bool) -> tuple[float, list]:
    """Import keys[i] into stores[i], all at once; wall seconds until the last commit."""
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(len(keys) + 1), context.Queue()
    children = [context.Process(target=import_one, args=(database_url, files, key, store, global_lock, barrier, out))
                for key, store in zip(keys, stores)]
    for child in children:
        child.start()
    barrier.wait()
    started = time.perf_counter()
    results = [out.get(timeout=900) for _ in children]
    wall = time.perf_counter() - started
    for child in children:
        child.join()
        assert child.exitcode == 0, child.exitcode
    return wall, results


def new_stores(database_url: str, count: int) -> list[int]:
    from common.config import Settings
    from common.db import make_engine, make_session_factory, session_scope
    from petshop.app.models import Store

    engine = make_engine(Settings(_env_file=None, database_url=database_url))
    with session_scope(make_session_factory(engine)) as session:
        stores = [Store(name=f"Tienda {time.time_ns()}-{n}", address="") for n in range(count)]
        session.add_all(stores)
        session.flush()
        ids = [store.id for store in stores]
    engine.dispose()
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each measurement; the median is printed")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="timon-concurrent-"))
    work.chmod(0o755)
    files = work / "files"
    (files / "in").mkdir(parents=True)
    postgres = None
    try:
        if args.database == "postgresql":
            (work / "pg").mkdir()
            postgres = PostgresServer(work / "pg" / "data").start()
            database_url = postgres.create_database("bench")
        else:
            database_url = f"sqlite:///{work / 'bench.db'}"
        subprocess.run([sys.executable, "-m", "common.migrate"], cwd=ROOT, check=True, capture_output=True,
                       env={**os.environ, "DATABASE_URL": database_url, "VAR_DIR": str(work / "var")})
        # the catalog every "stock only" file refers to, loaded once (prefix 0: the same SKUs and names)
        write_csv(files / "in" / "known.csv", args.rows, prefix=0)
        wall, _ = run(database_url, files, ["in/known.csv"], new_stores(database_url, 1), global_lock=False)
        print(f"catalog of {args.rows:,} products loaded in {wall:.1f}s ({args.database}); {os.cpu_count()} cores, shared",
              flush=True)

        lines = []
        counter = iter(range(1, 10_000))
        for case in ("stock only", "new products"):
            for variant, global_lock in (("ours", False), ("global lock", True)):
                alone, together, waits = [], [], []
                for _ in range(args.rounds):
                    def keys(count: int) -> list[str]:
                        if case == "stock only":
                            return ["in/known.csv"] * count
                        names = []
                        for _ in range(count):
                            number = next(counter)
                            write_csv(files / "in" / f"new{number}.csv", args.rows, prefix=number)
                            names.append(f"in/new{number}.csv")
                        return names

                    wall, results = run(database_url, files, keys(1), new_stores(database_url, 1), global_lock)
                    assert results[0][1] == args.rows, results
                    alone.append(wall)
                    wall, results = run(database_url, files, keys(PARALLEL), new_stores(database_url, PARALLEL), global_lock)
                    assert all(created == args.rows for _, created, _ in results), results
                    together.append(wall)
                    waits.append(max(wait for _, _, wait in results))
                one, four = statistics.median(alone), statistics.median(together)
                line = (f"{args.database:<10} {case:<13} {variant:<12} 1 alone {one:6.2f}s | {PARALLEL} at once {four:6.2f}s"
                        f" = {four / one:4.2f}x one (1.0 all parallel, 4.0 serial) | longest wait for the"
                        f" store's or global lock {statistics.median(waits):5.2f}s")
                print(line, flush=True)
                lines.append(line)
        print("\n" + "\n".join(lines))
    finally:
        if postgres:
            postgres.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
