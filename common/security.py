"""JWT issue and verification, and the dependencies every service uses to authorize a request.

The auth service signs tokens; veterinaria and petshop verify them locally with the same secret,
so no request needs a round-trip to auth.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from common.config import Settings
from common.db import utcnow
from common.errors import Forbidden, Unauthenticated
from common.secrets import read_or_create

#: how many verified tokens a process remembers (one per active session; see TokenCodec.verify)
VERIFIED_TOKENS_KEPT = 4096


class Role(StrEnum):
    ADMIN = "admin"
    VET = "veterinario"
    STAFF = "empleado"
    CLIENT = "cliente"


@dataclass(frozen=True)
class Principal:
    """The caller, as the token says: who they are and what role they act in."""

    id: int
    username: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class TokenCodec:
    """Signs and verifies access tokens with the shared secret."""

    def __init__(self, settings: Settings):
        self.secret, _ = read_or_create(settings.secrets_dir, "jwt_secret", settings.jwt_secret)
        self.algorithm = settings.jwt_algorithm
        self.issuer = settings.jwt_issuer
        self.lifetime = timedelta(minutes=settings.access_token_minutes)
        # a client polling a job sends the same token every request: its signature is checked once
        # (about a fifth of a status poll's work on the event loop), its expiry every time. Only
        # tokens that passed go in, so a flood of forged ones cannot push the good ones out
        self._checked = functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(self._check)

    def issue(self, *, user_id: int, username: str, role: Role) -> tuple[str, int]:
        now = utcnow()
        claims = {
            "sub": str(user_id),
            "username": username,
            "role": role.value,
            "iss": self.issuer,
            "iat": now,
            "exp": now + self.lifetime,
        }
        return jwt.encode(claims, self.secret, algorithm=self.algorithm), int(self.lifetime.total_seconds())

    def verify(self, token: str) -> Principal:
        """Decode a token; raises jwt.InvalidTokenError for anything forged, expired or malformed."""
        principal, expires_at = self._checked(token)
        if time.time() >= expires_at:
            raise jwt.ExpiredSignatureError("Signature has expired")
        return principal

    def _check(self, token: str) -> tuple[Principal, float]:
        claims = jwt.decode(
            token,
            self.secret,
            algorithms=[self.algorithm],
            issuer=self.issuer,
            options={"require": ["sub", "exp", "iss", "role", "username"]},
        )
        try:
            principal = Principal(id=int(claims["sub"]), username=str(claims["username"]), role=Role(claims["role"]))
            return principal, float(claims["exp"])
        except (ValueError, TypeError) as exc:
            raise jwt.InvalidTokenError("unknown subject or role") from exc


# tokenUrl is relative to the auth service; /docs on the other services shows it for reference
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/token", auto_error=False)

def principal_from_token(codec: TokenCodec, token: str | None) -> Principal:
    """The caller a bearer token names; Unauthenticated (401, Spanish) when it is missing or not valid."""
    if not token:
        raise Unauthenticated(
            "Inicia sesión para continuar: pide un token en el servicio de acceso (POST /token) "
            "y envíalo como 'Authorization: Bearer <token>'."
        )
    try:
        return codec.verify(token)
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("Tu sesión ha caducado: vuelve a iniciar sesión.", code="session_expired") from None
    except jwt.InvalidTokenError:
        raise Unauthenticated("El token no es válido: vuelve a iniciar sesión.", code="invalid_token") from None


#: request.state key under which common.guards.RequestGuard leaves (token, Principal) it verified
VERIFIED_PRINCIPAL = "verified_principal"


# async, like the two below: a token check is a few dozen microseconds of CPU and no I/O, so it runs
# on the event loop instead of costing each request a hop to the thread pool and back
async def get_current_principal(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    verified = getattr(request.state, VERIFIED_PRINCIPAL, None)
    if verified is not None and token and verified[0] == token:
        return verified[1]  # the guard checked this very token a moment ago
    return principal_from_token(request.app.state.token_codec, token)


CurrentUser = Annotated[Principal, Depends(get_current_principal)]


def require_role(*roles: Role):
    """Dependency factory: the caller must hold one of `roles` (admins always pass)."""
    allowed = {Role.ADMIN, *roles}

    async def check(user: CurrentUser) -> Principal:
        if user.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(
                f"Tu rol «{user.role.value}» no permite hacer esto; hace falta uno de estos: {names}.",
                code="role_not_allowed",
            )
        return user

    return check


AdminUser = Annotated[Principal, Depends(require_role(Role.ADMIN))]
