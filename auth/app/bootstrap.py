"""`python -m auth.app.bootstrap`: create the first admin account if it does not exist yet.

Its password is ADMIN_PASSWORD, or one generated once into var/secrets/admin_password.
"""

from __future__ import annotations

from auth.app import service
from common.config import Settings, load_settings
from common.db import make_engine, make_session_factory, session_scope
from common.secrets import read_or_create


def ensure_admin(settings: Settings) -> str:
    """Create the admin if missing; returns a line saying where its credentials are."""
    password, _ = read_or_create(settings.secrets_dir, "admin_password", settings.admin_password)
    engine = make_engine(settings)
    try:
        with session_scope(make_session_factory(engine)) as session:
            _, created = service.ensure_admin(session=session, username=settings.admin_username, password=password)
    finally:
        engine.dispose()
    where = "ADMIN_PASSWORD" if settings.admin_password else str(settings.secrets_dir / "admin_password")
    verb = "created" if created else "exists"
    return f"admin account '{settings.admin_username}' {verb}; its password is in {where}"


if __name__ == "__main__":
    print(ensure_admin(load_settings()))
