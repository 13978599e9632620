"""PostgreSQL streaming import: how much the GIL switch interval and the batch size matter.

The streaming writer applies batches in a thread while the parsing thread goes on; the writer
needs the GIL each time the server answers. This runs `import_inventory` directly (no Celery) on
a real PostgreSQL, with variants "SWITCH_INTERVAL:BATCH_ROWS" alternated round by round, and prints
each variant's median and its ratio to the first.

    .venv/bin/python bench/import_writer_gil.py                       # 100k rows, 0.5 ms vs 5 ms, 3 rounds
    .venv/bin/python bench/import_writer_gil.py --rows 100000 --variants 0.0005:10000,0.005:10000,0.005:25000 --rounds 4
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.inventory_import import write_csv  # noqa: E402
from common.config import Settings  # noqa: E402
from common.db import make_engine, make_session_factory, session_scope  # noqa: E402
from common.migrate import upgrade  # noqa: E402
from common.storage import LocalStorage  # noqa: E402
from petshop.app.imports.pipeline import import_inventory  # noqa: E402
from petshop.app.imports.write import writers  # noqa: E402
from petshop.app.models import Store  # noqa: E402
from tests.servers import PostgresServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--variants", default="0.0005:10000,0.005:10000", help="SWITCH_INTERVAL:BATCH_ROWS,…")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="timon-gil-"))
    base.chmod(0o755)  # as root the server runs as another user
    server = PostgresServer(base / "data").start()
    try:
        url = server.create_database("gil")
        upgrade(url)
        sessions = make_session_factory(make_engine(Settings(_env_file=None, database_url=url)))
        storage = LocalStorage(base / "files")
        variants = args.variants.split(",")
        times: dict[str, list[float]] = {variant: [] for variant in variants}
        numbers = itertools.count(1)
        for _ in range(args.rounds):
            for variant in variants:
                interval, _, batch = variant.partition(":")
                writers.StreamingWriter.switch_interval = float(interval)
                writers.StreamingWriter.batch_rows = int(batch or 10_000)
                times[variant].append(run_once(sessions, storage, base, next(numbers), args.rows))
                print(f"{variant:>16}  {times[variant][-1]:.2f} s", flush=True)
        first = statistics.median(times[variants[0]])
        for variant in variants:
            median = statistics.median(times[variant])
            print(f"{variant:>16}  median {median:.2f} s  ratio to {variants[0]}: {median / first:.2f}")
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def run_once(sessions, storage: LocalStorage, base: Path, number: int, rows: int) -> float:
    """One import of `rows` new products into a new store; seconds from start to commit."""
    path = write_csv(base / f"inventario{number}.csv", rows, prefix=number)
    storage.save_file(path, key=f"uploads/{number}.csv")
    with session_scope(sessions) as session:
        store = Store(name=f"Tienda {number}", address="")
        session.add(store)
        session.flush()
        store_id = store.id
    workdir = base / f"work{number}"
    workdir.mkdir()
    started = time.perf_counter()
    with session_scope(sessions) as session:
        import_inventory(
            session=session, storage=storage, job_id=f"bench-{number}", workdir=workdir,
            params={"store_id": store_id, "file_key": f"uploads/{number}.csv"}, report_progress=lambda _value: None,
        )
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
