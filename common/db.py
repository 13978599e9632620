"""Declarative base, engine factory for SQLite and PostgreSQL, and the session scopes."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from common.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 15_000
# execution option of a transaction that only reads (see session_scope)
READ_ONLY = "timon_read_only"
# a pooled PostgreSQL connection idle this long is pinged before use (see _pinger)
PING_AFTER_IDLE_SECONDS = 10.0
IDLE_SINCE = "timon_idle_since"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both dialects (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def database_url(settings: Settings) -> str:
    """DATABASE_URL with the psycopg 3 driver, and the password file applied when one is set."""
    url = make_url(settings.database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if settings.database_password_file is not None:
        url = url.set(password=settings.database_password_file.read_text().strip())
    return url.render_as_string(hide_password=False)


def make_engine(settings: Settings) -> Engine:
    """An engine for DATABASE_URL; SQLite gets WAL, a busy timeout and foreign keys."""
    url = make_url(database_url(settings))
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url, pool_size=settings.database_pool_size, connect_args={"connect_timeout": 5})
    event.listen(engine, "connect", _mark_idle)
    event.listen(engine, "checkin", _mark_idle)
    event.listen(engine, "checkout", _pinger(engine.dialect))
    return engine


def _mark_idle(_dbapi_connection, record) -> None:
    record.info[IDLE_SINCE] = time.monotonic()


def _pinger(dialect):
    """The checkout hook: ping a pooled connection before a request gets it only when it may have died meanwhile.

    A connection the server closed (a restart, a failover, `pg_terminate_backend`) has its socket
    readable: the server's goodbye or the end of the stream is waiting there, as nothing else comes
    unasked on an idle connection of ours (no LISTEN). One idle for over PING_AFTER_IDLE_SECONDS is
    pinged anyway (a firewall may have dropped it without a word). The others, the hot connections of
    a busy API, go as they are: `pool_pre_ping` would spend a round trip on every request.
    A failed ping raises DisconnectionError: the pool then discards the connection and opens a new one.
    """

    def ping_if_doubtful(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get(IDLE_SINCE, 0.0)
        if time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS and not _socket_readable(dbapi_connection):
            return
        try:
            dialect.do_ping(dbapi_connection)
        except psycopg.Error as error:
            raise DisconnectionError(f"pooled connection dead: {error}") from error

    return ping_if_doubtful


def _socket_readable(dbapi_connection) -> bool:
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def _sqlite_begin(conn) -> None:
    # pysqlite's own BEGIN handling defers the write lock; a writer takes it at BEGIN instead, so two
    # writers queue on busy_timeout rather than deadlock on a lock upgrade. A read-only transaction
    # begins deferred: in WAL mode it reads its snapshot at once, even while an import holds the lock.
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" listener issues BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session], *, read_only: bool = False) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error.

    `read_only` is a promise that nothing is written: on SQLite the transaction then begins deferred
    and does not wait for the one write lock (a write in it could fail at once on a busy database).
    On PostgreSQL it runs in autocommit: under READ COMMITTED each statement reads its own snapshot
    inside a transaction too, so BEGIN and ROLLBACK would be two round trips that change nothing
    (a status poll: four round trips down to two, with the pool's ping).
    """
    session = factory()
    if read_only:
        options: dict[str, object] = {READ_ONLY: True}
        if factory.kw["bind"].dialect.name == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        session.connection(execution_options=options)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
