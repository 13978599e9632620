"""Alembic migrations match the models, and run both ways, on the database under test."""

from __future__ import annotations

import uuid

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import auth.app.models  # noqa: F401  (registers its tables)
import common.jobs  # noqa: F401
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
