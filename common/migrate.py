"""`python -m common.migrate`: bring the database schema to the newest Alembic revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from common.config import get_settings
from common.db import database_url

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None) -> None:
    command.upgrade(alembic_config(url or database_url(get_settings())), "head")


if __name__ == "__main__":
    upgrade()
    print("database schema is up to date")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate ignores full-text search objects (FTS5 tables, GIN indexes), which migrations write by hand."""
    return "_fts" not in (name or "")
