"""The web console: server-rendered pages (Jinja2 + htmx) over the services' public HTTP APIs.

The browser talks only to this app (one origin); it calls auth, veterinaria and petshop with the
user's token, which lives in the signed session cookie. It has no database of its own.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from common.config import Settings, load_settings
from common.secrets import read_or_create
from common.telemetry import NO_OPENTELEMETRY, freeze_startup_objects, instrument_app
from console.app.backend import Backend, BackendError, SessionExpired
from console.app.pages import (
    admin_users,
    clinic,
    documents,
    home,
    imports,
    jobs,
    records_search,
    shop,
    shop_prices,
    shop_reports,
    shop_sales,
)
from console.app.pending import PendingUploads
from console.app.rendering import render
from console.app.session import EXPIRED_MESSAGE, CsrfFailed, NotLoggedIn, RoleForbidden, end_session

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
SESSION_COOKIE = "timon_console"
# the longest a token lives (ACCESS_TOKEN_MINUTES ≤ 1440): the session's own expiry is checked on every request
SESSION_MAX_AGE_SECONDS = 24 * 3600
SECURITY_HEADERS = {
    # everything is served from here: no inline script, no third-party origin
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    secret, _ = read_or_create(settings.secrets_dir, "console_session_secret", settings.console_session_secret)
    backend = Backend(
        urls={"auth": settings.auth_url, "veterinaria": settings.veterinaria_url, "petshop": settings.petshop_url},
        timeout=settings.console_backend_timeout_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        freeze_startup_objects()
        yield
        backend.close()

    app = FastAPI(title="Timón Pet Store — consola", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan,
                  telemetry=NO_OPENTELEMETRY)
    app.state.settings = settings
    app.state.backend = backend
    app.state.timezone = ZoneInfo(settings.console_timezone)
    app.state.pending_uploads = PendingUploads(settings.var_dir / "console" / "uploads", max_bytes=settings.max_upload_bytes)
    app.add_middleware(
        SessionMiddleware, secret_key=secret, session_cookie=SESSION_COOKIE, max_age=SESSION_MAX_AGE_SECONDS,
        same_site="lax", https_only=settings.console_secure_cookie,
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    _install_error_pages(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    for module in (home, shop, imports, jobs, clinic, documents, records_search, shop_sales, shop_prices, shop_reports,
                   admin_users):
        app.include_router(module.router)
    instrument_app(app, process="console", settings=settings)  # logs, request ids, /metrics: outermost
    return app


def _to_login(request: Request, *, message: str | None) -> Response:
    end_session(request, message=message)
    if request.headers.get("HX-Request"):
        # htmx would swap the login page into a fragment: ask it to navigate, back to the page it is on
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        return Response(status_code=204, headers={"HX-Redirect": _login_url(current.path, current.query)})
    if request.method != "GET":
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(_login_url(request.url.path, request.url.query), status_code=303)


def _login_url(path: str, query: str) -> str:
    if not path.startswith("/") or path in ("/", "/login"):
        return "/login"
    return "/login?next=" + quote(path + (f"?{query}" if query else ""), safe="")


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, _exc: NotLoggedIn):
        return _to_login(request, message=None)

    @app.exception_handler(SessionExpired)
    async def session_expired(request: Request, _exc: SessionExpired):
        return _to_login(request, message=EXPIRED_MESSAGE)

    @app.exception_handler(RoleForbidden)
    async def role_forbidden(request: Request, exc: RoleForbidden):
        return render(request, "error.html", status_code=403, title="Acceso no permitido",
                      message=f"Tu rol no permite abrir «{exc.page.label}». Usa las secciones de tu menú.")

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, _exc: CsrfFailed):
        return render(request, "error.html", status_code=403, title="Formulario caducado",
                      message="El formulario ha caducado o no viene de esta página. Vuelve atrás, recarga e inténtalo de nuevo.")

    @app.exception_handler(BackendError)
    async def backend_error(request: Request, exc: BackendError):
        titles = {403: "Acceso no permitido", 404: "No encontrado", 503: "Servicio no disponible"}
        return render(request, "error.html", status_code=exc.status_code,
                      title=titles.get(exc.status_code, "No se ha podido completar"), message=exc.message)

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, _exc: RequestValidationError):
        return render(request, "error.html", status_code=422, title="Datos no válidos",
                      message="Algún dato de la dirección o del formulario no es válido. Vuelve atrás y corrígelo.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return render(request, "error.html", status_code=404, title="Página no encontrada",
                          message="Esta dirección no existe en la consola. Vuelve al inicio.")
        if exc.status_code == 405:
            return render(request, "error.html", status_code=405, title="Acción no permitida",
                          message="Esta dirección no admite esa acción. Vuelve al inicio.")
        return render(request, "error.html", status_code=exc.status_code, title="Error", message=str(exc.detail))
