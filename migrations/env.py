"""Alembic environment: one schema history for every service's tables (each service owns its own)."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

import auth.app.models  # noqa: F401  (registers the auth tables)
import common.jobs  # noqa: F401  (registers the jobs table)
import common.notify.models  # noqa: F401  (registers the notify_* tables)
import common.schedules.models  # noqa: F401  (registers the schedules table)
import petshop.app.models  # noqa: F401  (registers the petshop tables)
import veterinaria.app.models  # noqa: F401  (registers the veterinaria tables)
from common.config import get_settings
from common.db import Base, make_engine
from common.migrate import include_object

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _settings():
    settings = get_settings()
    url = config.get_main_option("sqlalchemy.url")
    return settings.model_copy(update={"database_url": url, "database_password_file": None}) if url else settings


def run_migrations_offline() -> None:
    context.configure(
        url=_settings().database_url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_settings())
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
