"""Routes of the auth service: login, the caller's profile, and admin-only user management."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm

from auth.app import service
from auth.app.schemas import Token, UserCreate, UserRead, UserUpdate
from auth.app.throttle import Attempt, LoginThrottle
from common.errors import Conflict, Unauthenticated
from common.security import AdminUser, CurrentUser, Role, TokenCodec
from common.types import DbId, Offset
from common.web import SessionDep, SessionFactoryDep

router = APIRouter()


@router.post("/token", response_model=Token, responses={429: {"description": "Too many failed logins lately"}}, tags=["login"])
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, sessions: SessionFactoryDep) -> Token:
    """Log in with username and password (OAuth2 password flow); returns a bearer token.

    Send it on every other request as `Authorization: Bearer <access_token>`, to any service.
    After too many failures for one account or from one address, answers 429 with Retry-After.
    """
    throttle: LoginThrottle = request.app.state.login_throttle
    attempt = Attempt(username=form.username, address=request.client.host if request.client else "unknown")
    await run_in_threadpool(throttle.check, attempt)
    # the password check (Argon2) runs in a worker thread, a bounded number at a time, outside any
    # transaction: waiting for a slot holds no thread, no connection and no lock
    user = await anyio.to_thread.run_sync(
        partial(service.authenticate, sessions=sessions, username=form.username, password=form.password),
        limiter=request.app.state.verify_limiter,
    )
    if user is None:
        await run_in_threadpool(throttle.failed, attempt)
        raise Unauthenticated("Usuario o contraseña incorrectos.", code="wrong_credentials")
    await run_in_threadpool(throttle.succeeded, attempt)
    codec: TokenCodec = request.app.state.token_codec
    token, lifetime = codec.issue(user_id=user.id, username=user.username, role=Role(user.role))
    return Token(access_token=token, expires_in=lifetime)


@router.get("/users/me", response_model=UserRead, tags=["users"])
def read_me(user: CurrentUser, session: SessionDep):
    """The logged-in user's profile."""
    return service.get_or_404(session=session, user_id=user.id)


@router.get("/users/", response_model=list[UserRead], tags=["users"])
def list_users(
    _admin: AdminUser,
    session: SessionDep,
    role: Role | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
):
    """All users, optionally of one role (admin only)."""
    return service.list_users(session=session, role=role, limit=limit, offset=offset)


@router.post("/users/", response_model=UserRead, status_code=status.HTTP_201_CREATED, tags=["users"])
def create_user(user_in: UserCreate, _admin: AdminUser, session: SessionDep):
    """Create a user with a role: admin, veterinario, empleado or cliente (admin only)."""
    return service.create(session=session, user_in=user_in)


@router.get("/users/{user_id}", response_model=UserRead, tags=["users"])
def read_user(user_id: DbId, _admin: AdminUser, session: SessionDep):
    """One user (admin only)."""
    return service.get_or_404(session=session, user_id=user_id)


@router.patch("/users/{user_id}", response_model=UserRead, tags=["users"])
def update_user(user_id: DbId, user_in: UserUpdate, admin: AdminUser, session: SessionDep):
    """Change a user's role, name, e-mail or password, or deactivate them (admin only)."""
    user = service.get_or_404(session=session, user_id=user_id)
    if user.id == admin.id and (user_in.is_active is False or (user_in.role and user_in.role is not Role.ADMIN)):
        raise Conflict(
            "No puedes desactivar tu propia cuenta ni quitarte el rol de administrador: pídeselo a otro administrador.",
            code="own_account_locked",
        )
    return service.update(session=session, user=user, user_in=user_in)
