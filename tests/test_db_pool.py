"""The PostgreSQL pool pings a connection before handing it out only when it may be dead (common/db.py):
a hot connection goes without a round trip; one the server closed is replaced, not given to a request."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import text

from common import db
from common.db import session_scope


@pytest.fixture
def engine(sessions, monkeypatch):
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server connection to lose")
    engine.dispose()  # each test starts from an empty pool
    pings = []
    real_ping = engine.dialect.do_ping
    # counted on the dialect the checkout hook was given, the engine's own
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(1) or real_ping(connection))
    engine.pings = pings
    return engine


def backend_pid(sessions) -> int:
    with session_scope(sessions, read_only=True) as session:
        return session.scalar(text("SELECT pg_backend_pid()"))


def test_a_hot_pooled_connection_is_handed_out_without_a_ping(sessions, engine):
    first = backend_pid(sessions)  # a new connection: just opened, not pinged
    for _ in range(5):
        assert backend_pid(sessions) == first
    assert engine.pings == []


def test_a_connection_the_server_closed_is_replaced_before_a_request_gets_it(sessions, engine):
    doomed = backend_pid(sessions)
    # the administrator's command, on a connection of its own outside the pool
    with psycopg.connect(engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (doomed,)).fetchone()[0]
        deadline = time.monotonic() + 5  # the backend is gone, its goodbye on the pooled socket
        while admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (doomed,)).fetchone()[0]:
            assert time.monotonic() < deadline
            time.sleep(0.05)

    answers = [backend_pid(sessions) for _ in range(3)]  # no OperationalError: no request sees the dead one

    assert doomed not in answers
    assert len(engine.pings) == 1  # the one doubtful connection, and only it, was pinged


def test_a_connection_idle_for_long_is_pinged_before_use(sessions, engine, monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.2)
    first = backend_pid(sessions)
    time.sleep(0.3)

    assert backend_pid(sessions) == first  # alive: kept after its ping
    assert len(engine.pings) == 1
