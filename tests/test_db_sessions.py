"""Transactions that only read never wait for a writer: a status page stays live during an import."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from common.db import session_scope
from common.jobs import Job


def _job(owner_id: int) -> Job:
    return Job(id=str(uuid.uuid4()), service="petshop", kind="diagnostic", task_name="petshop.app.tasks.run_diagnostic",
               owner_id=owner_id, owner_username="clerk")


def test_a_read_only_transaction_reads_its_snapshot_while_a_writer_holds_the_database(sessions):
    with session_scope(sessions) as setup:
        setup.add(_job(owner_id=7001))
    count = select(func.count()).select_from(Job).where(Job.owner_id.in_((7001, 7002)))

    with session_scope(sessions) as writer:  # an import's long transaction, holding SQLite's write lock
        writer.add(_job(owner_id=7002))
        writer.flush()
        # without read_only this would queue behind the writer until the busy timeout ran out
        with session_scope(sessions, read_only=True) as reader:
            assert reader.scalar(count) == 1  # the committed state, not the writer's pending row

    with session_scope(sessions, read_only=True) as reader:
        assert reader.scalar(count) == 2


def test_on_postgresql_a_read_only_request_runs_in_autocommit_and_a_writing_one_in_a_transaction(sessions):
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite's read-only transactions begin deferred instead (the test above)")

    with session_scope(sessions, read_only=True) as reader:  # no BEGIN, no ROLLBACK: each statement its own snapshot
        assert reader.connection().connection.dbapi_connection.autocommit
        reader.scalar(select(func.count()).select_from(Job))
    with session_scope(sessions) as writer:  # the same pooled connection, given back in a transaction
        assert not writer.connection().connection.dbapi_connection.autocommit
        writer.add(_job(owner_id=7003))
        writer.flush()
        writer.rollback()  # so a rollback still undoes what it wrote
    with session_scope(sessions, read_only=True) as reader:
        assert reader.scalar(select(func.count()).select_from(Job).where(Job.owner_id == 7003)) == 0
