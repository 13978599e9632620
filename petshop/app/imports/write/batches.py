"""PostgreSQL: apply an import batch by batch, each touching only its own rows.

Per batch (a few thousand rows of one file, all in the file's one transaction):

1. COPY the rows into `petshop_import_copy` (`copy_rows`);
2. probe: one INSERT … SELECT copies them into `petshop_import_batch` together with what the
   database holds for each (the product by SKU, the store's stock row, the category and supplier
   ids), by index lookups; a new product gets its id from the products' sequence right here;
3. fail the rows that cannot create what they name, count created / updated / unchanged;
4. write: new categories and suppliers, then UPDATE only the changed products and stock rows
   (by primary key) and INSERT the new ones, with no further lookups.

Every statement costs in proportion to the batch, never to the catalog: hash and merge joins are
turned off for the transaction, so a batch of 10,000 rows against a catalog of a million does
10,000 index lookups rather than a scan of the million. Steps 2–4 go to the server in one
pipeline (psycopg pipeline mode) that `send` leaves open: the server runs them while the caller
goes on parsing, and `InFlight.result()` closes it and reads what they returned.

Foreign keys: with `skip_row_triggers` the per-row foreign-key triggers are off for this
transaction and `_LOCK_*` take the locks they would take (FOR KEY SHARE on every parent row a
new or changed row points at), one statement per parent table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from datetime import datetime

import psycopg
from psycopg import Connection

from petshop.app.imports.parse import InventoryRow, RowError
from petshop.app.imports.write.staging import NOT_CREATED, BatchResult
from petshop.app.service import CATALOG_LOCK_KEY, name_key

# its own tables, not SQLite's staging table: the rows come with category and supplier ids here
ROWS = "petshop_import_copy"
BATCH = "petshop_import_batch"

_CREATE = f"""
CREATE TEMPORARY TABLE {ROWS} (
    line integer, sku varchar(64), name varchar(300), stock integer, price numeric(12, 2), min_stock integer,
    category varchar(200), category_key varchar(200), category_id integer,
    supplier varchar(200), supplier_key varchar(200), supplier_id integer
) ON COMMIT DROP;
CREATE TEMPORARY TABLE {BATCH} (
    LIKE {ROWS},
    product_id integer, cur_name varchar(300), cur_category_id integer, cur_supplier_id integer,
    store_id integer,  -- with product_id, the key of the stock row (written or to write)
    stocked boolean,  -- the store has a stock row for the product
    cur_quantity integer, cur_min_stock integer, cur_price numeric(12, 2),
    names_looked_up boolean  -- a category or supplier id did not come with the row
) ON COMMIT DROP;
"""
# Only index lookups driven by the batch's rows: the planner's statistics lag far behind a table
# that grows by 100,000 rows inside this transaction (or a store that had no stock before), and
# with them it picks plans that rescan the store's whole stock for every row of the batch.
_PLANNER = ("enable_hashjoin", "enable_mergejoin", "enable_material", "enable_seqscan", "enable_bitmapscan")
_COPY = f"COPY {ROWS} FROM STDIN WITH (FORMAT csv)"

# A new product's id is drawn here (when writing), so later steps need no second lookup by SKU.
# Category and supplier ids mostly come with the rows (`KnownNames`); the others are looked up.
_PROBE = f"""
INSERT INTO {BATCH}
SELECT r.line, r.sku, r.name, r.stock, r.price, r.min_stock,
       r.category, r.category_key, COALESCE(r.category_id, (SELECT id FROM petshop_categories WHERE key = r.category_key)),
       r.supplier, r.supplier_key, COALESCE(r.supplier_id, (SELECT id FROM petshop_suppliers WHERE key = r.supplier_key)),
       COALESCE(p.id, CASE WHEN %(write)s THEN nextval('petshop_products_id_seq') END),
       p.name, p.category_id, p.supplier_id,
       %(store)s, k.product_id IS NOT NULL, k.quantity, k.min_stock, k.price,
       (r.category_id IS NULL AND r.category_key IS NOT NULL) OR (r.supplier_id IS NULL AND r.supplier_key IS NOT NULL)
FROM {ROWS} r
LEFT JOIN petshop_products p ON p.sku = r.sku
LEFT JOIN petshop_stock k ON k.store_id = %(store)s AND k.product_id = p.id
"""

# Blank name, price or stock leave a known value as it is, but cannot create one.
_NOT_CREATABLE = f"""
DELETE FROM {BATCH} WHERE (name IS NULL AND cur_name IS NULL) OR (price IS NULL AND NOT stocked)
RETURNING line, sku, CASE WHEN name IS NULL AND cur_name IS NULL THEN 'name' ELSE 'price' END
"""


# (the column that says the file gives a value, the value, what the database holds now)
_PRODUCT_FIELDS = (
    ("name", "name", "cur_name"),
    ("category_key", "category_id", "cur_category_id"),
    ("supplier_key", "supplier_id", "cur_supplier_id"),
)
_STOCK_FIELDS = (("stock", "stock", "cur_quantity"), ("price", "price", "cur_price"), ("min_stock", "min_stock", "cur_min_stock"))


def _changes(fields: tuple[tuple[str, str, str], ...], b: str = "") -> str:
    """SQL: the batch row changes one of `fields` (`b`: the batch table's alias, where a name is ambiguous)."""
    return "(" + " OR ".join(
        f"({b}{given} IS NOT NULL AND {b}{value} IS DISTINCT FROM {b}{current})" for given, value, current in fields
    ) + ")"



# The catalog lock only for a batch that creates or changes a product (see service.CATALOG_LOCK_KEY):
# a file that only sets a store's stock for known products leaves imports into other stores alone.
# The probe ran before the lock, so once it is held the rows that create or change a product are
# looked up again: a product another import committed meanwhile is updated, not inserted twice.
# (Their stock in this store cannot have changed: the store's own lock is held for the whole file.)
_LOCK_CATALOG = f"""
SELECT set_config('petshop.catalog_locked', 'on', true), pg_advisory_xact_lock({CATALOG_LOCK_KEY})
FROM (SELECT 1 FROM {BATCH} WHERE cur_name IS NULL OR {_changes(_PRODUCT_FIELDS)} LIMIT 1) needed
"""
_REFRESH_PRODUCTS = f"""
UPDATE {BATCH} b SET product_id = p.id, cur_name = p.name, cur_category_id = p.category_id, cur_supplier_id = p.supplier_id
FROM petshop_products p
WHERE current_setting('petshop.catalog_locked', true) = 'on' AND p.sku = b.sku
  AND (b.cur_name IS NULL OR b.cur_name IS DISTINCT FROM p.name OR b.cur_category_id IS DISTINCT FROM p.category_id
       OR b.cur_supplier_id IS DISTINCT FROM p.supplier_id)
"""

_CHANGED = _changes(_PRODUCT_FIELDS + _STOCK_FIELDS)
_COUNT = f"""
SELECT count(*) FILTER (WHERE NOT stocked),
       count(*) FILTER (WHERE stocked AND {_CHANGED}),
       count(*) FILTER (WHERE stocked AND NOT {_CHANGED})
FROM {BATCH}
"""


def _named(table: str, column: str) -> list[str]:
    """Create the categories (suppliers) the batch names and nobody knew, and put their ids in."""
    return [
        f"""INSERT INTO {table} (name, key)
            SELECT min({column}), {column}_key FROM {BATCH}
            WHERE {column}_key IS NOT NULL AND {column}_id IS NULL GROUP BY {column}_key
            ON CONFLICT (key) DO NOTHING""",
        f"""UPDATE {BATCH} b SET {column}_id = t.id FROM {table} t
            WHERE b.{column}_id IS NULL AND b.{column}_key IS NOT NULL AND t.key = b.{column}_key""",
    ]


_NAMED = _named("petshop_categories", "category") + _named("petshop_suppliers", "supplier")

_LOCK_NAMED = [
    f"""SELECT count(*) FROM (SELECT 1 FROM {table} WHERE id IN (SELECT {column} FROM {BATCH}) FOR KEY SHARE) locked"""
    for table, column in (("petshop_categories", "category_id"), ("petshop_suppliers", "supplier_id"))
]

_WRITE_PRODUCTS = [
    f"""UPDATE petshop_products p
        SET name = COALESCE(b.name, p.name), category_id = COALESCE(b.category_id, p.category_id),
            supplier_id = COALESCE(b.supplier_id, p.supplier_id), updated_at = %(now)s
        FROM {BATCH} b WHERE p.id = b.product_id AND b.cur_name IS NOT NULL AND {_changes(_PRODUCT_FIELDS, "b.")}""",
    f"""INSERT INTO petshop_products (id, sku, name, category_id, supplier_id, created_at, updated_at)
        SELECT product_id, sku, name, category_id, supplier_id, %(now)s, %(now)s FROM {BATCH} WHERE cur_name IS NULL""",
]

# products already in the catalog that get a stock row in this store now (new ones are ours)
_LOCK_PRODUCTS = f"""
SELECT count(*) FROM (
    SELECT 1 FROM petshop_products WHERE id IN (
        SELECT product_id FROM {BATCH} WHERE NOT stocked AND cur_name IS NOT NULL
    ) FOR KEY SHARE
) locked
"""

_WRITE_STOCK = [
    f"""UPDATE petshop_stock k
        SET quantity = COALESCE(b.stock, k.quantity), min_stock = COALESCE(b.min_stock, k.min_stock),
            price = COALESCE(b.price, k.price), updated_at = %(now)s
        FROM {BATCH} b
        WHERE k.store_id = b.store_id AND k.product_id = b.product_id AND b.stocked AND {_changes(_STOCK_FIELDS, "b.")}""",
    f"""INSERT INTO petshop_stock (store_id, product_id, quantity, min_stock, price, updated_at)
        SELECT %(store)s, product_id, COALESCE(stock, 0), COALESCE(min_stock, 0), price, %(now)s
        FROM {BATCH} WHERE NOT stocked""",
]

# what the parsing thread did not know yet (after the first batch, usually nothing)
_LEARN = f"""
SELECT 'category', category_key, category_id FROM {BATCH} WHERE names_looked_up AND category_id IS NOT NULL GROUP BY 2, 3
UNION ALL
SELECT 'supplier', supplier_key, supplier_id FROM {BATCH} WHERE names_looked_up AND supplier_id IS NOT NULL GROUP BY 2, 3
"""

_CLEAR = f"TRUNCATE {ROWS}, {BATCH}"

#: Rows per COPY message part: the server parses one while Python builds the next.
PART_ROWS = 1_000


class KnownNames:
    """Category and supplier ids by key, learnt from each batch and sent along with the next ones.

    Each row then needs no index lookup of its category and supplier, which was half the cost of
    the probe. A name first seen in a batch is looked up (or created) by that batch's statements
    and known from the next batch on.
    """

    def __init__(self) -> None:
        self.ids: dict[str, dict[str, int]] = {"category": {}, "supplier": {}}

    def learn(self, rows: list[tuple[str, str, int]]) -> None:
        for kind, key, id_ in rows:
            self.ids[kind][key] = id_

    def payload(self, rows: list[InventoryRow], part_rows: int = PART_ROWS) -> Iterator[bytes]:
        """A batch as the CSV that COPY loads (the rows table, before the probe), `part_rows` rows a part.

        In parts so that the server reads one while the next is built.
        """
        # name as written -> (key, id or None), worked out once per name and batch
        category, supplier = _Resolver(self.ids["category"]), _Resolver(self.ids["supplier"])
        for start in range(0, len(rows), part_rows):
            buffer = io.StringIO()
            csv.writer(buffer).writerows(
                (row.line, row.sku, row.name, row.stock, row.price, row.min_stock,
                 row.category, *category[row.category], row.supplier, *supplier[row.supplier])
                for row in rows[start : start + part_rows]
            )
            yield buffer.getvalue().encode()


class _Resolver(dict):
    """name -> (key, known id): the key and id columns that follow a name in the COPY rows."""

    def __init__(self, ids: dict[str, int]):
        super().__init__({None: (None, None)})
        self.ids = ids

    def __missing__(self, name: str) -> tuple[str, int | None]:
        key = name_key(name)
        self[name] = found = (key, self.ids.get(key))
        return found


def create_tables(connection: Connection) -> None:
    """The two TEMP tables (dropped at commit or rollback), and index lookups for every join."""
    connection.execute(_CREATE + " ".join(f"SET LOCAL {name} = off;" for name in _PLANNER))


def skip_row_triggers(connection: Connection) -> bool:
    """Turn off the per-row foreign-key triggers for this transaction, if the role may.

    With them on, a 100k-row first import fires four triggers a row (product → category,
    supplier; stock → product, store), each a locking SELECT: over half of the write time. With
    them off, every batch takes the same locks itself, one statement per parent table, and every
    reference is valid by construction (ids come from the parent tables, under the catalog lock).
    Needs a superuser or, from PostgreSQL 15, `GRANT SET ON PARAMETER session_replication_role TO
    <role>`; without it the triggers stay on and the import is just slower.
    """
    try:
        with connection.transaction():  # a savepoint: a refusal must not abort the import's transaction
            connection.execute("SET LOCAL session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


def restore_settings(connection: Connection, *, row_triggers_were_off: bool) -> None:
    """Back to normal for whatever else this transaction does (completing the job)."""
    settings = [f"SET LOCAL {name} = DEFAULT;" for name in _PLANNER]
    if row_triggers_were_off:
        settings.append("SET LOCAL session_replication_role = DEFAULT;")
    connection.execute(" ".join(settings))


def copy_rows(connection: Connection, payload: Iterable[bytes]) -> None:
    """COPY a batch (`KnownNames.payload`) into the rows table; returns once the server has it all."""
    with connection.cursor() as cursor:
        with cursor.copy(_COPY) as copy:
            for part in payload:
                copy.write(part)


def send(connection: Connection, *, store_id: int, dry_run: bool, now: datetime, lock_parents: bool) -> InFlight:
    """Send the statements that check, count and (unless a dry run) write the copied batch; do not wait.

    The statements go out in one psycopg pipeline, left open: the server runs them while the
    caller does something else. Nothing else may use the connection until `InFlight.result()`.
    """
    params = {"store": store_id, "now": now, "write": not dry_run}
    statements = [_PROBE, *([] if dry_run else [_LOCK_CATALOG, _REFRESH_PRODUCTS]), _NOT_CREATABLE, _COUNT]
    if not dry_run:
        statements += [*_NAMED, *(_LOCK_NAMED if lock_parents else []), *_WRITE_PRODUCTS]
        statements += [*([_LOCK_PRODUCTS] if lock_parents else []), *_WRITE_STOCK]
    statements += [_LEARN, _CLEAR]
    pipeline = ExitStack()  # the pipeline stays open after we return: closed by InFlight
    pipeline.enter_context(connection.pipeline())
    cursors = [connection.cursor() for _ in statements]
    in_flight = InFlight(pipeline, cursors, failed_at=statements.index(_NOT_CREATABLE))
    try:
        for cursor, statement in zip(cursors, statements):
            cursor.execute(statement, params if "%(" in statement else None, prepare=False)
    except BaseException as exc:
        in_flight.abandon(exc)
        raise
    return in_flight


class InFlight:
    """A batch's statements, sent and running on the server (`send`): read them, or abandon them."""

    def __init__(self, pipeline: ExitStack, cursors: list[psycopg.Cursor], *, failed_at: int):
        self._pipeline = pipeline
        self._cursors = cursors
        self._failed_at = failed_at  # the failed rows' statement; the counts come next

    def result(self, known: KnownNames) -> BatchResult:
        """Wait for the statements, raise the first error among them, learn the new names, count."""
        try:
            self._pipeline.close()  # Sync, then every result is read; a failed statement raises here
            failed, counts = self._cursors[self._failed_at].fetchall(), self._cursors[self._failed_at + 1].fetchone()
            known.learn(self._cursors[-2].fetchall())
        finally:
            self._close_cursors()
        created, updated, unchanged = counts
        return BatchResult(created, updated, unchanged, sorted(failed_rows(failed), key=lambda error: error.line))

    def abandon(self, exc: BaseException) -> None:
        """Leave pipeline mode after `exc` was raised elsewhere, discarding the results (the caller
        rolls back). Waits for the statements still running: at most one batch's worth."""
        try:
            self._pipeline.__exit__(type(exc), exc, exc.__traceback__)
        finally:
            self._close_cursors()

    def _close_cursors(self) -> None:
        for cursor in self._cursors:
            cursor.close()


def failed_rows(rows: list[tuple[int, str, str]]) -> list[RowError]:
    return [RowError(line=line, sku=sku, column=column, message=NOT_CREATED[column], raw={}) for line, sku, column in rows]
