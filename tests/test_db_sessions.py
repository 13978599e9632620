"""Transactions that only read never wait for a writer: a status page stays live during an import;
and a status poll's transaction runs whole in one worker thread."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from common.config import Settings
from common.db import session_scope
from common.jobs import Job
from common.security import Role


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


class RecordedSession(Session):
    """A session that notes the thread it was opened and closed in, and whether an event loop ran there."""

    log: list[tuple[str, int, bool]] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._note("opened")

    def close(self) -> None:
        self._note("closed")
        super().close()

    def _note(self, what: str) -> None:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        RecordedSession.log.append((what, threading.get_ident(), on_loop))


@pytest.mark.parametrize("path", ["/inventario/task/{id}", "/jobs/{id}", "/productos/precios/{id}"])
def test_a_status_poll_opens_one_session_and_closes_it_in_the_same_worker_thread(sessions, tmp_path, path):
    from petshop.app.main import create_app

    mine, theirs = _job(owner_id=7004), _job(owner_id=7005)
    with session_scope(sessions) as setup:
        setup.add_all([mine, theirs])
    app = create_app(Settings(_env_file=None, var_dir=tmp_path, jwt_secret="s" * 40,
                              database_url=sessions.kw["bind"].url.render_as_string(hide_password=False)))
    app.state.session_factory = sessionmaker(bind=sessions.kw["bind"], expire_on_commit=False, class_=RecordedSession)
    token, _ = app.state.token_codec.issue(user_id=7004, username="clerk", role=Role.STAFF)
    headers = {"Authorization": f"Bearer {token}"}

    with TestClient(app) as client:
        RecordedSession.log.clear()
        if path == "/productos/precios/{id}":  # a job of another kind looks absent there
            assert client.get(path.format(id=mine.id), headers=headers).status_code == 404
        else:
            answered = client.get(path.format(id=mine.id), headers=headers)
            assert answered.status_code == 200 and answered.json()["status"] == "queued"
        (opened, opened_in, opened_on_loop), (closed, closed_in, _) = RecordedSession.log
        assert (opened, closed) == ("opened", "closed") and opened_in == closed_in and not opened_on_loop

        RecordedSession.log.clear()
        refused = client.get(path.format(id=theirs.id), headers=headers)  # another user's job: absent, and closed
        assert (refused.status_code, refused.json()["code"]) == (404, "job_not_found")
        assert [what for what, _, _ in RecordedSession.log] == ["opened", "closed"]

        RecordedSession.log.clear()
        assert client.get(path.format(id=mine.id)).status_code == 401  # no token: no session at all
        assert RecordedSession.log == []
