"""The auth service's password checks on the database under test, without HTTP."""

from __future__ import annotations

from argon2 import PasswordHasher

from auth.app import service
from auth.app.models import User
from common.db import session_scope


def test_a_hash_made_with_weaker_settings_is_upgraded_at_the_next_login(sessions):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    with session_scope(sessions) as session:
        session.add(User(username="antigua", password_hash=weak.hash("una-clave-larga"), role="empleado"))

    user = service.authenticate(sessions=sessions, username="antigua", password="una-clave-larga")

    assert user is not None
    with session_scope(sessions) as session:
        stored = session.get(User, user.id).password_hash
    assert not service._hasher.check_needs_rehash(stored)
    assert service.authenticate(sessions=sessions, username="antigua", password="una-clave-larga") is not None
