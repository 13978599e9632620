"""The import's database half on the database under test, batch by batch, without Celery.

`import_inventory` is called directly with a real session; batches are made tiny so that a
handful of rows crosses several of them (PostgreSQL applies each batch as it is parsed).
"""

from __future__ import annotations

import itertools
import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from common.config import Settings
from common.db import make_engine, make_session_factory, session_scope
from common.errors import BadInput
from common.storage import LocalStorage
from petshop.app.imports.pipeline import import_inventory
from petshop.app.imports.write import writers
from petshop.app.models import Category, Product, StockItem, Store, Supplier

HEADER = "SKU;Nombre;Stock;Precio;Stock mínimo;Categoría;Proveedor"
_names = itertools.count()


@pytest.fixture(autouse=True)
def tiny_batches(monkeypatch):
    for writer in (writers.StreamingWriter, writers.SpooledWriter):
        monkeypatch.setattr(writer, "batch_rows", 2)
        monkeypatch.setattr(writer, "first_batch_rows", 1)


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path / "storage")


def new_store(sessions) -> int:
    with session_scope(sessions) as session:
        store = Store(name=f"Tienda {next(_names)}", address="")
        session.add(store)
        session.flush()
        return store.id


def run_import(sessions, storage, tmp_path, store_id: int, lines: list[str], **params) -> dict:
    key = f"uploads/{next(_names)}.csv"
    storage.save_bytes(("\n".join([HEADER, *lines]) + "\n").encode(), key=key)
    workdir = tmp_path / f"work{next(_names)}"
    workdir.mkdir()
    with session_scope(sessions) as session:
        return import_inventory(
            session=session, storage=storage, job_id="test", workdir=workdir,
            params={"store_id": store_id, "file_key": key, **params}, report_progress=lambda value: None,
        )


def stock(sessions, store_id: int) -> dict[str, tuple]:
    with session_scope(sessions) as session:
        rows = session.execute(
            select(Product.sku, Product.name, StockItem.quantity, StockItem.price, StockItem.min_stock,
                   Category.name, Supplier.name)
            .join(StockItem, StockItem.product_id == Product.id)
            .outerjoin(Category, Category.id == Product.category_id)
            .outerjoin(Supplier, Supplier.id == Product.supplier_id)
            .where(StockItem.store_id == store_id)
        ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def counts(result: dict) -> tuple[int, int, int]:
    return result["created"], result["updated"], result["unchanged"]


def skus(n: int) -> list[str]:
    prefix = f"{next(_names):04d}"
    return [f"0{prefix}{i:03d}" for i in range(n)]


def test_a_file_spread_over_many_batches_is_written_whole_with_true_counts(sessions, storage, tmp_path):
    store = new_store(sessions)
    a, b, c, d, e = skus(5)
    lines = [
        f"{a};Pienso;10;12,50;2;Alimentación;Mascotas SL",
        f"{b};Arena;5;3,99;1;Higiene;Mascotas SL",
        f"{c};Collar;0;8,00;;alimentacion;PetFood SA",  # the same category, written differently
        f"{d};Pelota;7;1,20;;Juguetes;",
        f"{e};Hueso;3;2,00;;;",
    ]

    first = run_import(sessions, storage, tmp_path, store, lines)
    again = run_import(sessions, storage, tmp_path, store, lines)
    lines[1] = f"{b};Arena fina;5;3,99;1;Higiene;Mascotas SL"  # product changes
    lines[3] = f"{d};Pelota;9;1,20;;Juguetes;"  # stock changes
    changed = run_import(sessions, storage, tmp_path, store, lines)

    assert counts(first) == (5, 0, 0) and counts(again) == (0, 0, 5) and counts(changed) == (0, 2, 3)
    assert first["errors_total"] == 0 and first["total_processed"] == 5
    rows = stock(sessions, store)
    assert rows[a] == ("Pienso", 10, Decimal("12.50"), 2, "Alimentación", "Mascotas SL")
    assert rows[b][0] == "Arena fina" and rows[d][1] == 9
    assert rows[c][4:] == ("Alimentación", "PetFood SA")
    assert rows[e] == ("Hueso", 3, Decimal("2.00"), 0, None, None)
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Category).where(Category.key == "alimentacion")) == 1


def test_a_second_store_reuses_the_catalog_and_blank_cells_keep_what_is_known(sessions, storage, tmp_path):
    first_store, second_store = new_store(sessions), new_store(sessions)
    a, b, c, d = skus(4)
    run_import(sessions, storage, tmp_path, first_store, [
        f"{a};Pienso;10;12,50;2;Alimentación;", f"{b};Arena;5;3,99;1;Higiene;", f"{c};Collar;1;8,00;;;",
    ])

    result = run_import(sessions, storage, tmp_path, second_store, [
        f"{a};;4;13,00;;;",  # known product, no name: keeps it
        f"{b};Arena;6;;;;",  # new to this store and no price: cannot be created here
        f"{c};Collar;2;8,00;;;",
        f"{d};;1;1,00;;;",  # a new product without a name
    ])

    assert counts(result) == (2, 0, 0) and result["errors_total"] == 2
    errors = {error["sku"]: error for error in result["errors"]}
    assert errors[b]["message"].startswith("Producto nuevo en esta tienda sin precio")
    assert errors[d]["message"].startswith("Producto nuevo sin nombre")
    assert [error["row"] for error in result["errors"]] == [3, 5]
    rows = stock(sessions, second_store)
    assert set(rows) == {a, c} and rows[a][:3] == ("Pienso", 4, Decimal("13.00"))
    assert rows[a][4] == "Alimentación"  # a blank category leaves the product's category as it is
    assert stock(sessions, first_store)[a][1:3] == (10, Decimal("12.50"))


def test_a_dry_run_counts_what_a_real_run_does_and_writes_nothing(sessions, storage, tmp_path):
    store = new_store(sessions)
    a, b, c = skus(3)
    run_import(sessions, storage, tmp_path, store, [f"{a};Pienso;10;12,50;;;"])
    lines = [f"{a};Pienso;11;12,50;;;", f"{b};Arena;5;3,99;;Categoría nueva;", f"{c};Collar;1;8,00;;;"]

    dry = run_import(sessions, storage, tmp_path, store, lines, dry_run=True)

    assert dry["dry_run"] is True and counts(dry) == (2, 1, 0)
    assert set(stock(sessions, store)) == {a} and stock(sessions, store)[a][1] == 10
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Category).where(Category.key == "categoria nueva")) == 0
    assert counts(run_import(sessions, storage, tmp_path, store, lines)) == (2, 1, 0)


def test_a_file_that_breaks_after_some_batches_leaves_nothing_written(sessions, storage, tmp_path):
    store = new_store(sessions)
    names = skus(7)
    # a quote that is never closed swallows the rest of the file, past the csv module's field limit
    tail = [f'{names[6]};"Comillas sin cerrar;1;1,00;;;'] + [f"{i};Producto;1;1,00;;;" for i in range(20_000)]
    lines = [f"{sku};Producto;1;1,00;;;" for sku in names[:6]] + tail

    with pytest.raises(BadInput, match="El CSV está mal formado"):
        run_import(sessions, storage, tmp_path, store, lines)

    assert stock(sessions, store) == {}
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Product).where(Product.sku.in_(names))) == 0


# -- PostgreSQL only ---------------------------------------------------------------------------


@pytest.fixture
def postgresql(database_kind):
    if database_kind != "postgresql":
        pytest.skip("PostgreSQL applies imports batch by batch; SQLite applies the whole file at the end")


def orphans(session) -> int:
    """References to rows that do not exist, counted set-based for every foreign key of the import."""
    return session.scalar(text("""
        SELECT (SELECT count(*) FROM petshop_products p LEFT JOIN petshop_categories c ON c.id = p.category_id
                WHERE p.category_id IS NOT NULL AND c.id IS NULL)
             + (SELECT count(*) FROM petshop_products p LEFT JOIN petshop_suppliers s ON s.id = p.supplier_id
                WHERE p.supplier_id IS NOT NULL AND s.id IS NULL)
             + (SELECT count(*) FROM petshop_stock k LEFT JOIN petshop_products p ON p.id = k.product_id WHERE p.id IS NULL)
             + (SELECT count(*) FROM petshop_stock k LEFT JOIN petshop_stores s ON s.id = k.store_id WHERE s.id IS NULL)
    """))


def test_without_the_privilege_the_foreign_key_triggers_stay_on_and_the_result_is_the_same(
    postgresql, sessions, storage, tmp_path
):
    with session_scope(sessions) as session:
        url = session.bind.url
        session.execute(text("DROP ROLE IF EXISTS timon_plain"))
        session.execute(text("CREATE ROLE timon_plain LOGIN"))
        session.execute(text("GRANT ALL ON ALL TABLES IN SCHEMA public TO timon_plain"))
        session.execute(text("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO timon_plain"))
    plain_engine = make_engine(Settings(_env_file=None, database_url=url.set(username="timon_plain").render_as_string(hide_password=False)))
    plain = make_session_factory(plain_engine)
    lines = [f"{sku};Producto {sku};{i};{i + 1},50;;Cat {i % 2};Prov {i % 3}" for i, sku in enumerate(skus(5))]
    try:
        store_a, store_b = new_store(sessions), new_store(sessions)
        privileged = run_import(sessions, storage, tmp_path, store_a, lines)
        limited = run_import(plain, storage, tmp_path, store_b, lines)
    finally:
        plain_engine.dispose()

    assert privileged["foreign_key_checks"] == "per batch" and limited["foreign_key_checks"] == "per row"
    assert counts(privileged) == (5, 0, 0) and counts(limited) == (5, 0, 0)
    assert list(stock(sessions, store_a).values()) == list(stock(sessions, store_b).values())
    with session_scope(sessions) as session:
        assert orphans(session) == 0
        # and the import's settings did not leak into the rest of its transaction's connection
        assert session.scalar(text("SHOW session_replication_role")) == "origin"


def test_every_batch_statement_uses_index_lookups_on_the_catalog(postgresql, sessions):
    """A plan that scans the catalog or the store's stock per batch (or per row) turns a big
    import quadratic. Statistics invite one: here the catalog has been analysed with its stock all
    in another store, so the new store looks empty to the planner however much it has by now."""
    from petshop.app.imports.write import batches

    other, store = new_store(sessions), new_store(sessions)
    with session_scope(sessions) as session:
        session.execute(text(
            "INSERT INTO petshop_products (sku, name, created_at, updated_at) "
            "SELECT 'PLAN' || g, 'Producto', now(), now() FROM generate_series(1, 3000) g"
        ))
        session.execute(text(
            "INSERT INTO petshop_stock (store_id, product_id, quantity, min_stock, price, updated_at) "
            "SELECT :other, id, 1, 0, 1, now() FROM petshop_products WHERE sku LIKE 'PLAN%'"
        ), {"other": other})
    with session_scope(sessions) as session:
        session.execute(text("ANALYZE petshop_products, petshop_stock"))
    with session_scope(sessions) as session:
        connection = session.connection().connection.driver_connection
        batches.create_tables(connection)
        connection.execute(
            f"INSERT INTO {batches.BATCH} (line, sku, stock, price, product_id, store_id, stocked) "
            "SELECT g, 'PLAN' || g, 2, 1, g, %(store)s, true FROM generate_series(1, 3000) g", {"store": store}
        )
        params = {"store": store, "now": "2026-01-01T00:00:00+00:00", "write": True}
        statements = [batches._PROBE, batches._LOCK_CATALOG, batches._REFRESH_PRODUCTS, *batches._NAMED, *batches._LOCK_NAMED, *batches._WRITE_PRODUCTS,
                      batches._LOCK_PRODUCTS, *batches._WRITE_STOCK]
        for statement in statements:
            plan = "\n".join(row[0] for row in connection.execute("EXPLAIN " + statement, params if "%(" in statement else None))
            assert not re.search(r"Seq Scan on petshop_(products|stock|categories|suppliers)\b", plan), plan
            assert "Materialize" not in plan and "Hash Join" not in plan, plan
            # every lookup in the stock is by product, never "all of this store's rows"
            for condition in re.findall(r"on petshop_stock \w+.*\n\s+Index Cond: (.*)", plan):
                assert "product_id" in condition, plan
        session.rollback()


def test_a_database_error_in_a_later_batch_reaches_the_task_nothing_is_written_and_the_connection_is_clean(
    postgresql, sessions, storage, tmp_path
):
    """The server refuses a row of the fourth batch while the fifth is being parsed: the error comes
    out of the import, the earlier batches roll back with it, and the next import on the same
    pool works (no connection is left in pipeline mode or mid-transaction)."""
    import psycopg

    store = new_store(sessions)
    names = skus(9)
    lines = [f"{sku};{'Veneno' if i == 6 else 'Producto'};1;1,00;;;" for i, sku in enumerate(names)]
    with session_scope(sessions) as session:
        session.execute(text("ALTER TABLE petshop_products ADD CONSTRAINT test_no_poison CHECK (name <> 'Veneno') NOT VALID"))
    try:
        with pytest.raises(psycopg.errors.CheckViolation, match="test_no_poison"):
            run_import(sessions, storage, tmp_path, store, lines)
    finally:
        with session_scope(sessions) as session:
            session.execute(text("ALTER TABLE petshop_products DROP CONSTRAINT test_no_poison"))

    assert stock(sessions, store) == {}
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Product).where(Product.sku.in_(names))) == 0
    assert counts(run_import(sessions, storage, tmp_path, store, lines)) == (9, 0, 0)


def test_a_parse_error_while_a_batch_is_on_the_server_leaves_the_connection_clean(postgresql, sessions, storage, tmp_path):
    store = new_store(sessions)
    names = skus(5)
    good = [f"{sku};Producto;1;1,00;;;" for sku in names]
    broken = [*good[:4], f'{names[4]};"Comillas sin cerrar;1;1,00;;;', *(f"{i};Producto;1;1,00;;;" for i in range(20_000))]

    with pytest.raises(BadInput, match="El CSV está mal formado"):
        run_import(sessions, storage, tmp_path, store, broken)

    assert stock(sessions, store) == {}
    assert counts(run_import(sessions, storage, tmp_path, store, good)) == (5, 0, 0)


def test_a_file_of_a_million_column_names_gives_a_small_result(sessions, storage, tmp_path):
    store_id = new_store(sessions)
    names = ";".join(f"Columna extra {i}" for i in range(1_000_000))
    key = "uploads/anchas.csv"
    storage.save_bytes(f"{HEADER};{names}\n001;Pienso;1;2,5;0;Perros;Acme\n".encode(), key=key)
    with session_scope(sessions) as session:
        result = import_inventory(
            session=session, storage=storage, job_id="wide", workdir=tmp_path,
            params={"store_id": store_id, "file_key": key}, report_progress=lambda value: None,
        )
    assert result["unknown_columns"][:2] == ["Columna extra 0", "Columna extra 1"]
    assert len(result["unknown_columns"]) == 50
    assert result["unknown_columns_total"] == 1_000_000 and result["unknown_columns_truncated"] is True
    assert len(json.dumps(result)) < 20_000
