"""Users: creation, lookup, password checks. Services flush; the caller owns the transaction (except `authenticate`)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session, sessionmaker

from auth.app.models import User
from auth.app.schemas import UserCreate, UserUpdate
from common.db import session_scope, utcnow
from common.errors import Conflict, NotFound
from common.security import Role

_hasher = PasswordHasher()
# verifying against this keeps the time of "no such user" equal to "wrong password"
_DUMMY_HASH = _hasher.hash("timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(*, sessions: sessionmaker[Session], username: str, password: str) -> User | None:
    """The active user with these credentials, or None; upgrades an outdated hash on the way.

    It owns its transactions, the one exception besides `jobs.submit`: a short one to read the account,
    none while Argon2 runs (tens of milliseconds of CPU), and a short one to store an upgraded hash.
    Inside a request's transaction the check would hold, on SQLite, the database's write lock (every
    transaction takes it at BEGIN) and, on PostgreSQL, a pooled connection: a burst of wrong passwords
    then stalled every other request of every service, /health included.
    """
    if "\x00" in username or "\x00" in password:
        return None  # no account has one (the API refuses them), and PostgreSQL cannot compare them
    with session_scope(sessions) as session:
        user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        with session_scope(sessions) as session:
            session.execute(sql_update(User).where(User.id == user.id).values(password_hash=hash_password(password)))
    return user


def get_or_404(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No existe ningún usuario con id {user_id}.", code="user_not_found")
    return user


def email_of(*, session: Session, user_id: int) -> str | None:
    """The account's e-mail: what notifications propose until the user chooses another address."""
    user = session.get(User, user_id)
    return user.email if user is not None else None


def list_users(*, session: Session, role: Role | None = None, limit: int = 100, offset: int = 0) -> list[User]:
    query = select(User).order_by(User.id).limit(limit).offset(offset)
    if role is not None:
        query = query.where(User.role == role)
    return list(session.scalars(query))


def create(*, session: Session, user_in: UserCreate) -> User:
    # Argon2 first: the first query opens the transaction, and on SQLite that holds the write lock
    password_hash = hash_password(user_in.password)
    taken = session.scalar(select(User.id).where(func.lower(User.username) == user_in.username.lower()))
    if taken is not None:
        raise Conflict(f"El nombre de usuario «{user_in.username}» ya está en uso: elige otro.", code="username_taken")
    user = User(
        username=user_in.username,
        full_name=user_in.full_name,
        email=str(user_in.email) if user_in.email else None,
        role=user_in.role,
        password_hash=password_hash,
    )
    session.add(user)
    session.flush()
    return user


def update(*, session: Session, user: User, user_in: UserUpdate) -> User:
    changes = user_in.model_dump(exclude_unset=True)
    if "password" in changes:
        password = changes.pop("password")
        if password is not None:
            user.password_hash = hash_password(password)
    for field, value in changes.items():
        if value is None and field in ("role", "is_active"):
            continue
        setattr(user, field, str(value) if field == "email" and value is not None else value)
    user.updated_at = utcnow()
    session.flush()
    return user


def ensure_admin(*, session: Session, username: str, password: str) -> tuple[User, bool]:
    """The admin account, created with `password` if no user of that name exists yet."""
    user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is not None:
        return user, False
    user = User(username=username, full_name="Administrator", role=Role.ADMIN, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user, True
