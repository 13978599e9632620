"""Where parsed batches go: straight into the database as they come (PostgreSQL), or to a spool
file applied in one short transaction at the end (SQLite).

Both write a whole file in one transaction, so a crash or a redelivery never leaves half a file
applied; they differ in *when* that transaction runs.

- PostgreSQL (`StreamingWriter`): the transaction starts before the first batch and a thread
  applies each batch while the next one is parsed. Parsing is Python on one core, the database
  works on the other, so a file takes about the longer of the two instead of their sum. The
  catalog lock is held for the whole file, which costs other catalog writers a wait about as long
  as the old parse-then-write import took.
- SQLite (`SpooledWriter`): one writer for the whole database, and our transactions take its lock
  at BEGIN. Holding it while a large file is parsed would stall every other write, the job's own
  progress updates included, so the rows are spooled to a local CSV and applied after parsing.
"""

from __future__ import annotations

import csv
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.db import utcnow
from common.errors import BadInput
from petshop.app.imports.parse import InventoryRow, RowError
from petshop.app.imports.write import batches, staging
from petshop.app.models import Store
from petshop.app.service import lock_catalog_writes


@dataclass
class Applied:
    """What the database did with the file's valid rows."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[RowError] = field(default_factory=list)  # rows that could not create what they name
    timings: dict[str, float] = field(default_factory=dict)
    foreign_key_checks: str = "per row"  # or "per batch": see batches.skip_row_triggers

    def add(self, batch: staging.BatchResult) -> None:
        self.created += batch.created
        self.updated += batch.updated
        self.unchanged += batch.unchanged
        self.failed += batch.failed


class SpooledWriter:
    """SQLite: spool the batches to `rows.csv`, then load and apply them in one transaction."""

    batch_rows = 50_000
    first_batch_rows = batch_rows

    def __init__(self, *, session: Session, store_id: int, dry_run: bool, workdir: Path):
        self.session = session
        self.store_id = store_id
        self.dry_run = dry_run
        self.path = workdir / "rows.csv"
        self._handle = open(self.path, "w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._handle)

    def __enter__(self) -> SpooledWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._handle.close()

    def add(self, rows: list[InventoryRow]) -> None:
        self._csv.writerows(map(staging.staging_tuple, rows))

    def finish(self) -> Applied:
        self._handle.close()
        applied = Applied()
        started = time.perf_counter()
        staging.begin(self.session)  # BEGIN IMMEDIATE: waits for other writers here
        loaded = time.perf_counter()
        staging.load_csv_file(self.session, self.path)
        applied.add(staging.apply_staged(self.session, store_id=self.store_id, dry_run=self.dry_run))
        staging.end(self.session)
        done = time.perf_counter()
        applied.timings = {"wait_for_lock": round(loaded - started, 3), "write": round(done - loaded, 3)}
        return applied


_DONE = object()


class StreamingWriter:
    """PostgreSQL: apply each batch in a background thread, inside the one transaction of the file.

    The thread uses the session alone until `finish()` (or an error) joins it. psycopg waits for
    the server without the GIL, so parsing goes on meanwhile. At most two parsed batches wait in
    the queue, which bounds memory for any file size.
    """

    batch_rows = 10_000
    first_batch_rows = 2_000  # the database starts working as soon as these are parsed
    #: How long the parsing thread may keep the GIL while the writer waits for it (Python's default
    #: is 5 ms). The writer needs it a few times a batch, each time the server answers; at 5 ms
    #: those waits added about 0.3 s to a 100k-row import, at 0.5 ms they are lost in the noise.
    switch_interval = 0.0005

    def __init__(self, *, session: Session, store_id: int, dry_run: bool, workdir: Path):
        self.session = session
        self.store_id = store_id
        self.dry_run = dry_run
        self.applied = Applied()
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._abort = False
        self._busy = 0.0
        self._thread = threading.Thread(target=self._run, name="inventory-import-writer", daemon=True)
        self._triggers_off = False
        self._connection = None
        self._old_switch_interval: float | None = None
        self._now = utcnow()
        self._known = batches.KnownNames()

    def __enter__(self) -> StreamingWriter:
        started = time.perf_counter()
        lock_catalog_writes(self.session)
        self.applied.timings["wait_for_lock"] = round(time.perf_counter() - started, 3)
        # as a foreign key's trigger would: the store cannot go away before we commit
        store = self.session.execute(
            select(Store.id).where(Store.id == self.store_id).with_for_update(read=True, key_share=True)
        ).scalar()
        if store is None:
            raise BadInput("La tienda ya no existe: elige otra tienda y vuelve a subir el archivo.", code="store_not_found")
        self._connection = self.session.connection().connection.driver_connection
        batches.create_tables(self._connection)
        if not self.dry_run:
            self._triggers_off = batches.skip_row_triggers(self._connection)
        self._old_switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(self.switch_interval)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._old_switch_interval is not None:
            sys.setswitchinterval(self._old_switch_interval)
        if kind is None or not self._thread.is_alive():
            return
        # parsing failed (a broken row, a time limit): stop the thread; the caller rolls back
        self._abort = True
        self._connection.cancel_safe()
        self._queue.put(_DONE)
        self._thread.join()

    def add(self, rows: list[InventoryRow]) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(self._known.payload(rows))  # built here: the writer thread should mostly wait

    def finish(self) -> Applied:
        waited = time.perf_counter()
        self._queue.put(_DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error
        batches.restore_settings(self._connection, row_triggers_were_off=self._triggers_off)
        timings = self.applied.timings
        timings["wait_for_writer"] = round(time.perf_counter() - waited, 3)
        timings["write"] = round(self._busy, 3)
        if self._triggers_off:
            self.applied.foreign_key_checks = "per batch"
        return self.applied

    def _run(self) -> None:
        while (payload := self._queue.get()) is not _DONE:
            if self._error is not None or self._abort:
                continue  # keep draining, so that add() never blocks on a dead writer
            started = time.perf_counter()
            try:
                self.applied.add(
                    batches.apply(
                        self._connection, payload, store_id=self.store_id, dry_run=self.dry_run, now=self._now,
                        lock_parents=self._triggers_off, known=self._known,
                    )
                )
            except BaseException as exc:  # handed to the parsing thread by add() / finish()
                self._error = exc
            self._busy += time.perf_counter() - started


def writer_for(session: Session) -> type[StreamingWriter] | type[SpooledWriter]:
    return StreamingWriter if session.bind.dialect.name == "postgresql" else SpooledWriter
