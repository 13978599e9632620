"""Alembic migrations match the models, and run both ways, on the database under test."""

from __future__ import annotations

import uuid

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import auth.app.models  # noqa: F401  (registers its tables)
import common.jobs  # noqa: F401
import common.notify.models  # noqa: F401
import petshop.app.models  # noqa: F401
import veterinaria.app.models  # noqa: F401
from common.config import Settings
from common.db import Base, make_engine
from common.migrate import alembic_config, include_object, upgrade


def test_the_migrations_build_exactly_the_models_schema(new_database_url):
    url = new_database_url(f"mig_{uuid.uuid4().hex[:8]}")
    upgrade(url)
    engine = make_engine(Settings(_env_file=None, database_url=url))
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection, opts={"include_object": include_object}), Base.metadata)
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()

    assert diff == []
    assert {"jobs", "auth_users", "petshop_products", "petshop_stock", "petshop_sales", "vet_pets", "vet_documents"} <= tables


def test_upgrading_twice_is_harmless_and_downgrade_removes_everything(new_database_url):
    url = new_database_url(f"mig_{uuid.uuid4().hex[:8]}")
    upgrade(url)
    upgrade(url)

    command.downgrade(alembic_config(url), "base")

    engine = make_engine(Settings(_env_file=None, database_url=url))
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
            if connection.dialect.name == "sqlite":  # the FTS5 table and its shadow tables went too
                assert connection.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name LIKE 'vet_search%'").scalar() == 0
    finally:
        engine.dispose()


def test_the_stock_key_migration_keeps_the_rows_both_ways(new_database_url):
    url = new_database_url(f"mig_{uuid.uuid4().hex[:8]}")
    config = alembic_config(url)
    command.upgrade(config, "0003")
    engine = make_engine(Settings(_env_file=None, database_url=url))
    stock = "SELECT store_id, product_id, quantity FROM petshop_stock ORDER BY product_id"
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO petshop_stores (id, name, address, created_at) VALUES (1, 'T', '', '2026-01-01')")
            for product in (1, 2):
                connection.exec_driver_sql(
                    f"INSERT INTO petshop_products (id, sku, name, created_at, updated_at) VALUES ({product}, 'S{product}', 'P', '2026-01-01', '2026-01-01')"
                )
                connection.exec_driver_sql(
                    f"INSERT INTO petshop_stock (store_id, product_id, quantity, min_stock, price, updated_at) VALUES (1, {product}, {product * 5}, 0, 1, '2026-01-01')"
                )
        command.upgrade(config, "0004")
        with engine.connect() as connection:
            assert connection.exec_driver_sql(stock).all() == [(1, 1, 5), (1, 2, 10)]
            assert inspect(connection).get_pk_constraint("petshop_stock")["constrained_columns"] == ["store_id", "product_id"]
        command.downgrade(config, "0003")
        with engine.connect() as connection:
            assert connection.exec_driver_sql(stock).all() == [(1, 1, 5), (1, 2, 10)]
            ids = [row[0] for row in connection.exec_driver_sql("SELECT id FROM petshop_stock")]
            assert len(set(ids)) == 2 and None not in ids
    finally:
        engine.dispose()


def test_the_report_list_migration_lists_the_reports_finished_before_it(new_database_url):
    from sqlalchemy.orm import Session

    from common.db import utcnow
    from common.jobs import Job
    from veterinaria.app.models import MedicalReport, Owner, Pet

    url = new_database_url(f"mig_{uuid.uuid4().hex[:8]}")
    config = alembic_config(url)
    command.upgrade(config, "0010_document_corrections")
    engine = make_engine(Settings(_env_file=None, database_url=url))
    try:
        with Session(engine) as session:  # the jobs and pets tables are the same before and after 0011
            owner = Owner(full_name="Eva", name_key="eva")
            session.add(owner)
            session.flush()
            pet = Pet(name="Nala", name_key="nala", species="perro", owner_id=owner.id)
            session.add(pet)
            session.flush()
            finished = {"mascota_id": pet.id, "pdf_key": "reports/r1/informe.pdf", "pages": 2}
            # the jobs table as it was at 0010: later migrations add columns (0012: `worker`) the model has
            jobs_then = [column for column in Job.__table__.columns if column.name != "worker"]
            for job_id, status, result in (("r1", "completed", finished), ("r2", "failed", None),
                                           ("r3", "completed", {**finished, "mascota_id": 999})):
                job = Job(id=job_id, service="veterinaria", kind="medical_report", task_name="t", owner_id=7,
                          owner_username="dra-ana", status=status, params={"pet_id": pet.id}, result=result,
                          progress=0, attempts=0, requeues=0, created_at=utcnow(), updated_at=utcnow())
                session.execute(Job.__table__.insert().values(
                    {column.name: getattr(job, column.key) for column in jobs_then}))
            pet_id = pet.id
            session.commit()
        command.upgrade(config, "head")
        with Session(engine) as session:
            copied = session.query(MedicalReport).all()
            assert [(r.id, r.pet_id, r.pdf_key, r.pages, r.requested_by) for r in copied] == [
                ("r1", pet_id, "reports/r1/informe.pdf", 2, "dra-ana")]  # not the failed one, nor one of no pet
            assert copied[0].created_at is not None
        command.downgrade(config, "0010_document_corrections")
        assert "vet_medical_reports" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
