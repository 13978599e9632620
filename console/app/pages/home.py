"""Login, logout and each role's home page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from console.app.backend import BackendError
from console.app.rendering import render
from console.app.session import BackendDep, CsrfChecked, User, current_user, end_session, optional_user, start_session

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this console: never another site (an open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, next: str | None = None):
    if optional_user(request):
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", next=_safe_next(next))


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request, backend: BackendDep, username: Annotated[str, Form(max_length=150)] = "",
    password: Annotated[str, Form(max_length=256)] = "", next: Annotated[str, Form()] = "/",
):
    if not username or not password:
        return render(request, "login.html", status_code=422, next=_safe_next(next), username=username,
                      error="Escribe tu usuario y tu contraseña.")
    try:
        token = backend.login(username=username, password=password)
        me = backend.get("auth", "/users/me", token=token["access_token"])
    except BackendError as exc:
        if exc.status_code >= 500:
            raise
        return render(request, "login.html", status_code=exc.status_code, next=_safe_next(next), username=username,
                      error=exc.message)
    start_session(request, token=token["access_token"], expires_in=token["expires_in"], me=me)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request):
    end_session(request, message="Has cerrado la sesión.")
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home(request: Request, user: Annotated[User, Depends(current_user)]):
    return render(request, "home.html", user=user)
