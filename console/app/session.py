"""Who is logged in: the session cookie's contents, the role's menu, CSRF and page guards.

The session (a signed, HttpOnly, SameSite=Lax cookie written by starlette's SessionMiddleware)
holds the user's access token, when it expires, the user's name and role as auth's
`GET /users/me` gave them at login, and a CSRF token every form sends back.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form, Request

from console.app.backend import Backend, SessionExpired

EXPIRED_MESSAGE = "Tu sesión ha caducado: vuelve a iniciar sesión."
ROLE_NAMES = {"admin": "Administración", "empleado": "Tienda", "veterinario": "Clínica", "cliente": "Cliente"}


@dataclass(frozen=True)
class Page:
    """A menu entry: one page of the console and the roles that may open it (admins open all)."""

    key: str
    path: str
    label: str
    roles: frozenset[str]

    def label_for(self, role: str) -> str:
        return "Mis mascotas" if self.key == "mascotas" and role == "cliente" else self.label


EVERYONE = frozenset(ROLE_NAMES)
PAGES = {
    page.key: page
    for page in (
        Page("inicio", "/", "Inicio", EVERYONE),
        Page("productos", "/tienda/productos", "Productos y stock", frozenset({"admin", "empleado"})),
        Page("importar", "/tienda/importar", "Importar inventario", frozenset({"admin", "empleado"})),
        Page("ventas", "/tienda/ventas", "Ventas", frozenset({"admin", "empleado"})),
        Page("precios", "/tienda/precios", "Precios", frozenset({"admin", "empleado"})),
        Page("informes", "/tienda/informes", "Informes", frozenset({"admin", "empleado"})),
        Page("mascotas", "/mascotas", "Mascotas", frozenset({"admin", "veterinario", "cliente"})),
        Page("documentos", "/documentos/subir", "Subir documentos", frozenset({"admin", "veterinario"})),
        Page("buscar", "/buscar", "Buscar en historias", frozenset({"admin", "veterinario"})),
        Page("trabajos", "/trabajos", "Trabajos", EVERYONE),
        Page("usuarios", "/admin/usuarios", "Usuarios", frozenset({"admin"})),
    )
}


def menu_for(role: str) -> list[Page]:
    return [page for page in PAGES.values() if role in page.roles]


@dataclass(frozen=True)
class User:
    id: int
    username: str
    full_name: str
    role: str
    token: str

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class NotLoggedIn(Exception):
    """No session: the page sends the browser to the login."""


class RoleForbidden(Exception):
    """The user's role may not open this page."""

    def __init__(self, page: Page):
        super().__init__(page.key)
        self.page = page


class CsrfFailed(Exception):
    """A form came back without this session's CSRF token."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def start_session(request: Request, *, token: str, expires_in: int, me: dict[str, Any]) -> None:
    request.session.clear()
    request.session.update(
        token=token,
        expires_at=int(time.time()) + int(expires_in),
        user={"id": me["id"], "username": me["username"], "full_name": me.get("full_name") or "", "role": me["role"]},
        csrf=secrets.token_urlsafe(32),
    )


def end_session(request: Request, *, message: str | None = None) -> None:
    request.session.clear()
    if message:
        request.session["flash"] = message


def current_user(request: Request) -> User:
    """The logged-in user; NotLoggedIn without a session, SessionExpired once the token's time is up."""
    data = request.session.get("user")
    token = request.session.get("token")
    if not data or not token:
        raise NotLoggedIn()
    if int(request.session.get("expires_at", 0)) <= time.time():
        raise SessionExpired(EXPIRED_MESSAGE, code="session_expired")
    return User(token=token, **data)


def optional_user(request: Request) -> User | None:
    try:
        return current_user(request)
    except (NotLoggedIn, SessionExpired):
        return None


def require_page(key: str):
    """Dependency factory: the user must be logged in with a role that may open page `key`."""
    page = PAGES[key]

    def check(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role != "admin" and user.role not in page.roles:
            raise RoleForbidden(page)
        return user

    return check


def check_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    expected = request.session.get("csrf")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        raise CsrfFailed()


def get_backend(request: Request) -> Backend:
    return request.app.state.backend


BackendDep = Annotated[Backend, Depends(get_backend)]
CsrfChecked = Depends(check_csrf)
