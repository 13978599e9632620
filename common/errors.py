"""Domain exceptions raised by services and tasks, and the handlers that map every error to HTTP.

Every error a person can see has the same JSON shape, on every service and every status:

    {"detail": "<Spanish sentence the user can act on>", "code": "<stable snake_case code>"}

`detail` is for people and may be reworded; `code` is for programs (the console, scripts) and
never changes once shipped. Validation errors add `errors`: one entry per bad field, each with
`field`, `code` and a Spanish `message`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from common.validation_messages import describe_validation_errors

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base: `message` is written for the person who sees it (shop staff, vets), in Spanish.

    `code` is the stable machine-readable name of the error; each subclass has a default.
    """

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.headers = headers


class BadInput(DomainError):
    """The request or the file cannot be processed as given; retrying will not help."""

    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    default_code = "bad_input"


class Unauthenticated(DomainError):
    """No valid token: the caller must log in (again)."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "not_authenticated"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message, code=code, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "forbidden"


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class TooLarge(DomainError):
    status_code = status.HTTP_413_CONTENT_TOO_LARGE
    default_code = "too_large"


class TooManyRequests(DomainError):
    """A per-user or per-address limit was reached; `retry_after` seconds until it is worth trying again."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None):
        super().__init__(message, code=code, headers={"Retry-After": str(max(1, int(retry_after)))})
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    """A dependency (queue, database, storage) is down; the caller may try again shortly."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int = 10):
        super().__init__(message, code=code, headers={"Retry-After": str(retry_after)})


# What a person reads for an HTTP error raised by the framework itself (unknown route, wrong method…)
_HTTP_STATUS_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "La petición no es válida."),
    401: ("not_authenticated", "Inicia sesión para continuar."),
    403: ("forbidden", "No tienes permiso para hacer esto."),
    404: ("not_found", "No existe lo que buscas en esta dirección."),
    405: ("method_not_allowed", "Esta dirección no admite esa operación."),
    406: ("not_acceptable", "No podemos responder en el formato pedido."),
    409: ("conflict", "La operación choca con el estado actual de los datos."),
    413: ("too_large", "Lo que has enviado es demasiado grande."),
    415: ("unsupported_media_type", "El tipo de contenido enviado no se admite aquí."),
    422: ("bad_input", "Los datos enviados no son válidos."),
    429: ("too_many_requests", "Demasiadas peticiones seguidas: espera un momento y vuelve a intentarlo."),
    500: ("internal_error", "Error interno del servidor. Si se repite, avisa al administrador."),
    503: ("service_unavailable", "El servicio no está disponible ahora mismo: inténtalo de nuevo en unos momentos."),
}


def error_body(*, detail: str, code: str, **extra: Any) -> dict[str, Any]:
    """The one JSON shape of every error response."""
    return {"detail": detail, "code": code, **extra}


def error_response(
    *, status_code: int, detail: str, code: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(error_body(detail=detail, code=code, **extra), status_code=status_code, headers=headers)


def status_message(status_code: int) -> tuple[str, str]:
    """(code, Spanish message) for a bare HTTP status."""
    return _HTTP_STATUS_MESSAGES.get(status_code, ("http_error", "No se pudo completar la petición."))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return error_response(status_code=exc.status_code, detail=exc.message, code=exc.code, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Our own code raises DomainError; what arrives here is the framework's (404 route, 405, …)
        code, message = status_message(exc.status_code)
        return error_response(status_code=exc.status_code, detail=message, code=code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        summary, errors = describe_validation_errors(exc.errors())
        return error_response(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, detail=summary, code="validation_error", errors=errors
        )

    @app.exception_handler(OperationalError)
    async def database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.orig)
        return error_response(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="La base de datos no está disponible ahora mismo: inténtalo de nuevo en unos momentos.",
            code="database_unavailable",
            headers={"Retry-After": "10"},
        )
