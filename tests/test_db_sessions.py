"""Transactions that only read never wait for a writer: a status page stays live during an import."""

from __future__ import annotations

import uuid

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
