"""Usuarios (admin only): list the accounts, create one, change a role, deactivate or reactivate (auth's API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse

from console.app.backend import BackendError, SessionExpired
from console.app.forms import in_form_words
from console.app.rendering import render
from console.app.session import ROLE_NAMES, BackendDep, CsrfChecked, User, require_page

router = APIRouter()
AdminUser = Annotated[User, Depends(require_page("usuarios"))]
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Role = Annotated[str, Form(pattern="^(admin|empleado|veterinario|cliente)$")]
PAGE_SIZE = 50
FIELD_LABELS = {"username": "Usuario", "password": "Contraseña", "full_name": "Nombre", "email": "Correo", "role": "Rol"}


def _in_form_words(exc: BackendError) -> str:
    return in_form_words(exc, FIELD_LABELS)


def _page(request: Request, backend, user: User, *, rol: str = "", pagina: int = 1, status_code: int = 200,
          error: str | None = None, values: dict | None = None):
    users = backend.get("auth", "/users/", token=user.token,
                        params={"role": rol or None, "limit": PAGE_SIZE + 1, "offset": (pagina - 1) * PAGE_SIZE})
    base = "/admin/usuarios?" + (f"rol={rol}&" if rol else "")
    return render(request, "users.html", status_code=status_code, user=user, users=users[:PAGE_SIZE], rol=rol,
                  role_names=ROLE_NAMES, error=error, values=values or {"role": "empleado"},
                  previous_url=f"{base}pagina={pagina - 1}" if pagina > 1 else None,
                  next_url=f"{base}pagina={pagina + 1}" if len(users) > PAGE_SIZE else None, page=pagina)


@router.get("/admin/usuarios")
def users_page(request: Request, user: AdminUser, backend: BackendDep,
               rol: Annotated[str, Query(pattern="^(|admin|empleado|veterinario|cliente)$")] = "",
               pagina: Annotated[int, Query(ge=1, le=100_000)] = 1):
    """The accounts, optionally of one role, with a form to create one."""
    return _page(request, backend, user, rol=rol, pagina=pagina)


def _refused(exc: BackendError) -> bool:
    return not (isinstance(exc, SessionExpired) or exc.status_code >= 500 or exc.status_code == 403)


@router.post("/admin/usuarios", dependencies=[CsrfChecked])
def create_user(
    request: Request, user: AdminUser, backend: BackendDep, username: Annotated[str, Form(max_length=150)] = "",
    password: Annotated[str, Form(max_length=256)] = "", role: Role = "empleado",
    full_name: Annotated[str, Form(max_length=200)] = "", email: Annotated[str, Form(max_length=320)] = "",
):
    """Create an account; auth's refusal (name taken, short password…) is shown beside the form."""
    values = {"username": username, "role": role, "full_name": full_name, "email": email}
    body = {"username": username.strip(), "password": password, "role": role, "full_name": full_name.strip(),
            "email": email.strip() or None}
    try:
        created = backend.request("auth", "POST", "/users/", token=user.token, json=body)
    except BackendError as exc:
        if not _refused(exc):
            raise
        return _page(request, backend, user, status_code=exc.status_code, error=_in_form_words(exc), values=values)
    request.session["flash"] = f"Cuenta «{created['username']}» creada con el rol {ROLE_NAMES[created['role']]}."
    return RedirectResponse("/admin/usuarios", status_code=303)


def _update(request: Request, backend, user: User, user_id: int, body: dict, done: str):
    try:
        changed = backend.request("auth", "PATCH", f"/users/{user_id}", token=user.token, json=body)
    except BackendError as exc:
        if not _refused(exc):
            raise
        return _page(request, backend, user, status_code=exc.status_code, error=_in_form_words(exc))
    request.session["flash"] = done.format(username=changed["username"], role=ROLE_NAMES[changed["role"]])
    return RedirectResponse("/admin/usuarios", status_code=303)


@router.post("/admin/usuarios/{user_id}/rol", dependencies=[CsrfChecked])
def change_role(request: Request, user: AdminUser, backend: BackendDep, user_id: UserId, role: Role):
    """Give an account another role (from its next login on, its menu is that role's)."""
    return _update(request, backend, user, user_id, {"role": role}, "«{username}» tiene ahora el rol {role}.")


@router.post("/admin/usuarios/{user_id}/activo", dependencies=[CsrfChecked])
def set_active(request: Request, user: AdminUser, backend: BackendDep, user_id: UserId,
               activo: Annotated[str, Form(pattern="^(si|no)$")]):
    """Deactivate an account (it can no longer log in) or reactivate it."""
    active = activo == "si"
    done = "«{username}» vuelve a estar activa." if active else "«{username}» está desactivada: ya no puede entrar."
    return _update(request, backend, user, user_id, {"is_active": active}, done)
