"""PostgreSQL import writer: ours (one thread) against the old threaded writer and the bare floor.

Runs `import_inventory` directly (no Celery, no HTTP) on a real PostgreSQL, 100k new products into
a new store per run, the variants alternated round by round; prints each variant's median and its
ratio to the floor.

- `ours`: `StreamingWriter` as shipped: one thread; each batch's COPY text is built while the
  server still applies the previous batch, then COPYed, and its statements sent without waiting.
- `ours-streamed`: the same, but the COPY text is built part by part after waiting for the
  previous batch (the server reads one part while the next is built).
- `threaded-0.5ms` / `threaded-5ms`: the writer we had before: a thread applies each batch
  (COPY, then the statements, waiting) while the parsing thread goes on, with the process's GIL
  switch interval set to 0.5 ms (as it shipped) or left at Python's 5 ms.
- `floor`: the same parse and the same COPY of every batch, and nothing else (no checks, no
  writes): what no writer can beat. The target is ours within 10 % of it.

    .venv/bin/python bench/import_writer.py                          # 100k rows, CSV, 3 rounds
    .venv/bin/python bench/import_writer.py --format xlsx --rounds 4 --variants ours,floor
"""

from __future__ import annotations

import argparse
import itertools
import queue
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.inventory_import import write_csv, write_xlsx  # noqa: E402
from common.config import Settings  # noqa: E402
from common.db import make_engine, make_session_factory, session_scope  # noqa: E402
from common.migrate import upgrade  # noqa: E402
from common.storage import LocalStorage  # noqa: E402
from petshop.app.imports import pipeline  # noqa: E402
from petshop.app.imports.write import batches, writers  # noqa: E402
from petshop.app.models import Store  # noqa: E402
from tests.servers import PostgresServer  # noqa: E402

_DONE = object()


class ThreadedWriter(writers.StreamingWriter):
    """The writer as it was before: a thread applies each batch, waiting for it, while parsing goes on."""

    switch_interval: float | None = 0.0005

    def __enter__(self):
        super().__enter__()
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._old_interval = sys.getswitchinterval()
        if self.switch_interval is not None:
            sys.setswitchinterval(self.switch_interval)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind, exc, tb):
        sys.setswitchinterval(self._old_interval)
        if self._thread.is_alive():
            self._queue.put(_DONE)
            self._thread.join()

    def add(self, rows):
        if self._error is not None:
            raise self._error
        self._queue.put(b"".join(self._known.payload(rows)))

    def finish(self):
        self._queue.put(_DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error
        batches.restore_settings(self._connection, row_triggers_were_off=self._triggers_off)
        return self.applied

    def _run(self):
        while (payload := self._queue.get()) is not _DONE:
            if self._error is not None:
                continue
            try:
                batches.copy_rows(self._connection, [payload])
                in_flight = batches.send(self._connection, store_id=self.store_id, dry_run=self.dry_run,
                                         now=self._now, lock_parents=self._triggers_off)
                self.applied.add(in_flight.result(self._known))
            except BaseException as exc:
                self._error = exc


class ThreadedDefaultInterval(ThreadedWriter):
    switch_interval = None


class StreamedPayload(writers.StreamingWriter):
    """Ours as first written: wait for the previous batch, then build and COPY this one part by part."""

    def add(self, rows):
        self._collect()
        batches.copy_rows(self._connection, self._known.payload(rows))
        self._in_flight = batches.send(self._connection, store_id=self.store_id, dry_run=self.dry_run,
                                       now=self._now, lock_parents=self._triggers_off)


class FloorWriter(writers.StreamingWriter):
    """Parse and COPY every batch, nothing else: the floor for any writer."""

    def add(self, rows):
        batches.copy_rows(self._connection, self._known.payload(rows))
        self._connection.execute(f"TRUNCATE {batches.ROWS}")

    def finish(self):
        return self.applied


VARIANTS = {
    "ours": writers.StreamingWriter, "ours-streamed": StreamedPayload, "threaded-0.5ms": ThreadedWriter, "threaded-5ms": ThreadedDefaultInterval,
    "floor": FloorWriter,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated: " + ", ".join(VARIANTS))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    variants = args.variants.split(",")

    base = Path(tempfile.mkdtemp(prefix="timon-writer-"))
    base.chmod(0o755)  # as root the server runs as another user
    server = PostgresServer(base / "data").start()
    try:
        url = server.create_database("writer")
        upgrade(url)
        engine = make_engine(Settings(_env_file=None, database_url=url))
        sessions = make_session_factory(engine)
        storage = LocalStorage(base / "files")
        times: dict[str, list[float]] = {variant: [] for variant in variants}
        numbers = itertools.count(1)
        for _ in range(args.rounds):
            for variant in variants:
                seconds = run_once(sessions, storage, base, next(numbers), args.rows, args.format, VARIANTS[variant])
                times[variant].append(seconds)
                print(f"{variant:>16}  {seconds:.2f} s", flush=True)
        reference = "floor" if "floor" in times else variants[0]
        floor = statistics.median(times[reference])
        print(f"\n{args.rows:,} rows of {args.format}, median of {args.rounds}:")
        for variant in variants:
            median = statistics.median(times[variant])
            print(f"{variant:>16}  {median:.2f} s  ({min(times[variant]):.2f}–{max(times[variant]):.2f})  "
                  f"ratio to {reference}: {median / floor:.2f}")
        engine.dispose()
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def run_once(sessions, storage: LocalStorage, base: Path, number: int, rows: int, fmt: str, writer_class) -> float:
    """One import of `rows` new products into a new store with `writer_class`; seconds from start to commit."""
    path = (write_xlsx if fmt == "xlsx" else write_csv)(base / f"inventario{number}.{fmt}", rows, prefix=number)
    key = f"uploads/{number}.{fmt}"
    storage.save_file(path, key=key)
    with session_scope(sessions) as session:
        store = Store(name=f"Tienda {number}", address="")
        session.add(store)
        session.flush()
        store_id = store.id
    workdir = base / f"work{number}"
    workdir.mkdir()
    real = pipeline.writer_for
    pipeline.writer_for = lambda session: writer_class
    try:
        started = time.perf_counter()
        with session_scope(sessions) as session:
            result = pipeline.import_inventory(
                session=session, storage=storage, job_id=f"bench-{number}", workdir=workdir,
                params={"store_id": store_id, "file_key": key}, report_progress=lambda _value: None,
            )
        seconds = time.perf_counter() - started
    finally:
        pipeline.writer_for = real
    if writer_class is not FloorWriter:
        assert result["created"] == rows, result
    return seconds


if __name__ == "__main__":
    main()
