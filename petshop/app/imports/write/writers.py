"""Where parsed batches go: straight into the database as they come (PostgreSQL), or to a spool
file applied in one short transaction at the end (SQLite).

Both write a whole file in one transaction, so a crash or a redelivery never leaves half a file
applied; they differ in *when* that transaction runs.

- PostgreSQL (`StreamingWriter`): the transaction starts before the first batch, and each batch
  is sent to the server as soon as it is parsed; the server applies it while the next one is
  parsed. Parsing is Python on one core, the database works on the other, so a file takes about
  the longer of the two instead of their sum. The store's lock is held for the whole file (two
  imports into one store never interleave); the catalog lock only from the first batch that
  creates or changes a product, so imports into different stores that only set stock run side
  by side.
- SQLite (`SpooledWriter`): one writer for the whole database, and our transactions take its lock
  at BEGIN. Holding it while a large file is parsed would stall every other write, the job's own
  progress updates included, so the rows are spooled to a local CSV and applied after parsing.

Both are used the same way, inside the caller's transaction:

    with writer_for(session)(session=..., store_id=..., dry_run=..., workdir=...) as writer:
        for rows in batches_of_valid_rows:  # first_batch_rows, then batch_rows at a time
            writer.add(rows)
        applied = writer.finish()
    # the caller commits (with the job completed), or rolls back on any exception
"""

from __future__ import annotations

import csv
import logging
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
from petshop.app.service import lock_store_stock

logger = logging.getLogger(__name__)


@dataclass
class Applied:
    """What the database did with the file's valid rows."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[RowError] = field(default_factory=list)  # rows that could not create what they name
    timings: dict[str, float] = field(default_factory=dict)
    write_started_at: str | None = None  # once no other writer of the store could run (ISO, UTC)
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
        applied.write_started_at = utcnow().isoformat()
        staging.load_csv_file(self.session, self.path)
        applied.add(staging.apply_staged(self.session, store_id=self.store_id, dry_run=self.dry_run))
        staging.end(self.session)
        done = time.perf_counter()
        applied.timings = {"wait_for_lock": round(loaded - started, 3), "write": round(done - loaded, 3)}
        return applied


class StreamingWriter:
    """PostgreSQL: each batch goes to the server as soon as it is parsed, in the file's one transaction.

    What it guarantees:

    - **One transaction.** Everything runs in the caller's session transaction and the writer
      never commits: nothing of the file is visible to anyone until the caller commits after
      `finish()`, and an exception anywhere (a broken row at line 90,000, a database error in a
      batch, a time limit) leaves the caller to roll the whole file back.
    - **Staging tables, set-based writes.** Each batch is COPYed into a TEMP table (dropped at
      commit or rollback), checked and counted against the catalog with index lookups, then
      written with one UPDATE and one INSERT per table (`batches`). Batches never share a SKU
      (the validator refuses repeats), so applying them in turn gives the same rows and counts as
      the whole file at once.
    - **Overlap without threads.** `add()` builds this batch's COPY text, then waits for the
      previous batch's statements (usually done by then), COPYs this batch and sends its
      statements in one psycopg pipeline without waiting for them, and returns: the server applies
      the batch while the caller parses and encodes the next one. One thread, so no wait for the GIL and no process-wide setting changed.
    - **Errors surface at the next call.** A database error in a batch is raised by the next
      `add()` or by `finish()`. On the way out of the `with` block after any exception, the open
      pipeline is closed (its results discarded) so that the caller's rollback finds the
      connection idle; if even that fails, the connection is invalidated (closed, so the server
      rolls back) rather than handed back to the pool in an unknown state.
    - **Bounded memory.** One parsed batch in Python, one batch on the server.
    - **The store stays, and is ours.** The store's stock lock (`service.lock_store_stock`) is
      taken first: another import into the same store waits for this one's commit. Then the store
      row is locked FOR KEY SHARE; a store deleted before that is refused (`store_not_found`).
    """

    batch_rows = 10_000
    first_batch_rows = 2_000  # the database starts working as soon as these are parsed

    def __init__(self, *, session: Session, store_id: int, dry_run: bool, workdir: Path):
        self.session = session
        self.store_id = store_id
        self.dry_run = dry_run
        self.applied = Applied()
        self._triggers_off = False
        self._connection = None
        self._in_flight: batches.InFlight | None = None
        self._now = utcnow()
        self._known = batches.KnownNames()
        self._busy = 0.0  # seconds spent in add() and finish()
        self._waited = 0.0  # of which waiting for a batch's statements to finish

    def __enter__(self) -> StreamingWriter:
        started = time.perf_counter()
        if not self.dry_run:  # a dry run writes nothing and waits for no one
            lock_store_stock(self.session, self.store_id)
        self.applied.timings["wait_for_lock"] = round(time.perf_counter() - started, 3)
        self.applied.write_started_at = utcnow().isoformat()
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
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._in_flight is None:
            return
        in_flight, self._in_flight = self._in_flight, None
        left_early = exc is None
        try:
            in_flight.abandon(exc or RuntimeError("the import writer was left before finish()"))
        except Exception:
            logger.exception("could not leave the import's pipeline; the connection is closed instead")
            self.session.connection().invalidate()
        if left_early:  # a caller's bug: the last batch's counts are lost, so the file must not commit
            raise RuntimeError("StreamingWriter: finish() was not called before leaving the with block")

    def add(self, rows: list[InventoryRow]) -> None:
        """Wait for the previous batch, then COPY this one and start its statements."""
        if not rows:  # every row of the chunk failed validation
            return
        started = time.perf_counter()
        # built while the server is still applying the previous batch: that is the overlap. Names
        # the previous batch is creating are not known yet; this batch's statements look them up
        payload = b"".join(self._known.payload(rows))
        self._collect()
        batches.copy_rows(self._connection, [payload])
        self._in_flight = batches.send(
            self._connection, store_id=self.store_id, dry_run=self.dry_run, now=self._now,
            lock_parents=self._triggers_off,
        )
        self._busy += time.perf_counter() - started

    def finish(self) -> Applied:
        """Wait for the last batch, restore the transaction's settings, and say what was done."""
        started = time.perf_counter()
        self._collect()
        batches.restore_settings(self._connection, row_triggers_were_off=self._triggers_off)
        finished = time.perf_counter()
        timings = self.applied.timings
        timings["wait_for_writer"] = round(finished - started, 3)
        timings["write"] = round(self._busy + finished - started, 3)
        timings["wait_for_server"] = round(self._waited, 3)
        if self._triggers_off:
            self.applied.foreign_key_checks = "per batch"
        return self.applied

    def _collect(self) -> None:
        if self._in_flight is None:
            return
        started = time.perf_counter()
        in_flight, self._in_flight = self._in_flight, None
        try:
            self.applied.add(in_flight.result(self._known))
        finally:
            self._waited += time.perf_counter() - started


def writer_for(session: Session) -> type[StreamingWriter] | type[SpooledWriter]:
    return StreamingWriter if session.bind.dialect.name == "postgresql" else SpooledWriter
