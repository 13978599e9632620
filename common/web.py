"""What every FastAPI service shares: settings and engine on app.state, the request session, health."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

import redis
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from common.config import Settings
from common.db import make_engine, make_session_factory, session_scope
from common.enqueue import Enqueuer
from common.errors import install_error_handlers
from common.guards import RequestGuard
from common.jobs import JobQuota
from common.security import TokenCodec
from common.storage import Storage, build_storage
from common.telemetry import NO_OPENTELEMETRY, freeze_startup_objects, instrument_app

log = logging.getLogger(__name__)

T = TypeVar("T")


def create_service_app(
    *, name: str, title: str, description: str, settings: Settings, routers: list[APIRouter],
    openapi_tags: list[dict[str, Any]] | None = None, uses_queue: bool = False,
) -> FastAPI:
    """A FastAPI app with its engine, token codec and storage on `app.state`, and /health.

    With `uses_queue`, it also gets an Enqueuer for its Celery queue and the `/jobs/` routes.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        freeze_startup_objects()
        yield
        app.state.engine.dispose()

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan, openapi_tags=openapi_tags,
                  telemetry=NO_OPENTELEMETRY)
    app.state.service_name = name
    app.state.settings = settings
    app.state.engine = make_engine(settings)
    app.state.session_factory = make_session_factory(app.state.engine)
    app.state.token_codec = TokenCodec(settings)
    app.state.storage = build_storage(settings)
    app.state.enqueuer = None
    if uses_queue:
        from common.celery_app import create_celery_app
        from common.job_routes import make_jobs_router

        app.state.enqueuer = Enqueuer(
            celery=create_celery_app(settings), service=name, timeout=settings.enqueue_timeout_seconds,
            quota=JobQuota(max_active=settings.job_max_active_per_user,
                           retry_after_seconds=settings.job_quota_retry_after_seconds),
        )
        routers = [*routers, make_jobs_router(name)]
        # a job finished here (a publish that failed, a cancel) still tells its owner
        from common.notify.hook import install_hook

        install_hook(app.state.enqueuer.celery)
    install_error_handlers(app)
    app.add_middleware(RequestGuard, max_upload_bytes=settings.max_upload_bytes, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"]
        )
    instrument_app(app, process=name, settings=settings)  # logs, request ids, /metrics: outermost
    app.include_router(health_router)
    for router in routers:
        app.include_router(router)
    _publish_our_validation_errors(app)
    if name != "auth":
        _point_authorize_at_auth(app, f"{settings.auth_public_url.rstrip('/')}/token")
    return app


#: what our handlers answer for a 422 (common/errors.py, common/validation_messages.py), published under
#: FastAPI's own schema name so that every route's documented 422 describes the body it really gets
VALIDATION_ERROR_SCHEMA = {
    "title": "HTTPValidationError",
    "type": "object",
    "required": ["detail", "code"],
    "properties": {
        "detail": {"type": "string", "description": "What is wrong, in Spanish"},
        "code": {"type": "string", "description": "Stable snake_case name of the error"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "code": {"type": "string"}, "message": {"type": "string"}}}},
    },
}


def _publish_our_validation_errors(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = generate().get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = VALIDATION_ERROR_SCHEMA
        return app.openapi_schema

    app.openapi = openapi


def _point_authorize_at_auth(app: FastAPI, token_url: str) -> None:
    """Only auth serves /token: the other services' /docs must log in there."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            for scheme in generate().get("components", {}).get("securitySchemes", {}).values():
                if "password" in scheme.get("flows", {}):
                    scheme["flows"]["password"]["tokenUrl"] = token_url
        return app.openapi_schema

    app.openapi = openapi


# what HTTP promises of GET and HEAD: they change nothing, so their transaction only reads
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


def get_session(request: Request) -> Iterator[Session]:
    """The request's one transaction: committed after the route returns, rolled back on error."""
    read_only = request.method in READ_ONLY_METHODS
    with session_scope(request.app.state.session_factory, read_only=read_only) as session:
        yield session


# scope="function": the commit runs when the route returns, before the response is sent. With the
# default ("request") FastAPI sends the response first, so a client could read before the commit
# (POST then GET gave 404) and a failed commit still answered 2xx.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


class SessionWork:
    """The request's one transaction for an `async def` route, run whole in one thread-pool call.

    A sync route with `SessionDep` costs four hops to the thread pool (the session opened, the route,
    its response validated, the session closed), and under load each waits for a thread and a core.
    `await in_session(service_function, **arguments)` opens the session, calls
    `service_function(session=session, **arguments)`, commits (or rolls back) and closes it in one
    hop: the same transaction as `SessionDep`'s, read-only for GET and HEAD, committed before the
    response is sent. Call it once a request, and let the function return what the route answers:
    a schema, or an object whose loaded columns are all the route reads (nothing loads after close).
    """

    def __init__(self, factory: sessionmaker[Session], *, read_only: bool) -> None:
        self._factory = factory
        self._read_only = read_only

    async def __call__(self, work: Callable[..., T], /, **arguments: Any) -> T:
        return await run_in_threadpool(self._run, work, arguments)

    def _run(self, work: Callable[..., T], arguments: dict[str, Any]) -> T:
        with session_scope(self._factory, read_only=self._read_only) as session:
            return work(session=session, **arguments)


async def get_session_work(request: Request) -> SessionWork:  # opens nothing yet: no hop
    return SessionWork(request.app.state.session_factory, read_only=request.method in READ_ONLY_METHODS)


InSession = Annotated[SessionWork, Depends(get_session_work)]


# the getters of app.state are async: no I/O, so no hop to the thread pool for them
async def get_session_factory(request: Request) -> sessionmaker[Session]:
    return request.app.state.session_factory


# for the rare route whose service must own short transactions of its own (the login: see auth/app/service.py)
SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_session_factory)]


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_storage(request: Request) -> Storage:
    return request.app.state.storage


StorageDep = Annotated[Storage, Depends(get_storage)]


health_router = APIRouter(tags=["health"])


@health_router.get("/health", summary="Liveness and dependencies")
def health(request: Request) -> JSONResponse:
    """Always answers while the process is up: 200 when the database is reachable, else 503.

    `components` tells which dependency is down. Needs no token.
    """
    components: dict[str, str] = {}
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        components["database"] = "ok"
    except Exception as exc:  # any failure here is "down", whatever the driver raised
        log.warning("health: database down: %s", exc)
        components["database"] = "unavailable"
    if request.app.state.enqueuer is not None:
        components["queue"] = _ping_redis(request.app.state.settings.redis_url)
    healthy = all(value == "ok" for value in components.values())
    return JSONResponse(
        {"service": request.app.state.service_name, "status": "ok" if healthy else "degraded", "components": components},
        status_code=200 if healthy else 503,
    )


def _ping_redis(url: str) -> str:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
        return "ok"
    except redis.RedisError as exc:
        log.warning("health: redis down: %s", exc)
        return "unavailable"
    finally:
        client.close()
