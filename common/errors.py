"""Domain exceptions raised by services and tasks, and the one handler that maps them to HTTP."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base: `message` is written for the person who sees it (shop staff, vets)."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadInput(DomainError):
    """The request or the file cannot be processed as given; retrying will not help."""

    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT


class TooLarge(DomainError):
    status_code = status.HTTP_413_CONTENT_TOO_LARGE


class ServiceUnavailable(DomainError):
    """A dependency (queue, database, storage) is down; the caller may try again shortly."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        headers = {"Retry-After": "10"} if isinstance(exc, ServiceUnavailable) else None
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(OperationalError)
    async def database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.orig)
        return JSONResponse(
            {"detail": "The database is unavailable right now; please try again in a moment."},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "10"},
        )

