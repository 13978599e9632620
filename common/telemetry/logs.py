"""Structured logs: one structlog pipeline for our lines and every library's, with a request's or a job's context.

Code keeps logging through the standard library (`logging.getLogger(__name__)`); the root handler
formats every record, ours and uvicorn's, Celery's or SQLAlchemy's alike, through structlog's
`ProcessorFormatter`, which merges the context variables bound for the current request
(`request_id`) or job (`job_id`, `kind`, `attempt`, `service`, and the `request_id` that submitted
it). `LOG_FORMAT=console` (the default, for people and honcho's prefixes) renders key=value text;
`LOG_FORMAT=json` renders one JSON object per line (compose).
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
# a client's id is kept when it is short and plain (it lands in every log line and in job messages)
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
# uvicorn and Celery install handlers of their own on these; ours on the root logger formats them instead
_LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "celery", "celery.task", "celery.app.trace")

_configured: dict[str, str] = {}


def configure_logging(*, process: str, log_format: str = "console", level: str = "INFO") -> None:
    """Send every log record of this process through structlog; once per process (later calls change nothing).

    `process` names the process on every line (`service`, unless a job's own service is bound).
    """
    if _configured:
        return
    _configured.update(process=process, format=log_format)

    def add_process(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        event_dict.setdefault("service", process)
        return event_dict

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_process,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if log_format == "json":
        renderer: Any = structlog.processors.JSONRenderer()
        final = [structlog.processors.format_exc_info, renderer]
    else:
        # plain tracebacks: structlog would otherwise render them with rich (installed with schemathesis),
        # which takes seconds per traceback while holding the handler's lock, so one logged exception
        # on a thread (a notification with Redis down) held every request's log line, and its 503, up
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty(),
                                                 exception_formatter=structlog.dev.plain_traceback)
        final = [renderer]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), _drop_color_message],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
    logging.captureWarnings(True)  # warnings.warn (SQLAlchemy's among them) become log lines with the context
    # structlog.get_logger() callers (none yet) go through the same handler
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def _drop_color_message(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    event_dict.pop("color_message", None)  # uvicorn's copy of the message with terminal colours
    return event_dict


def current_request_id() -> str | None:
    """The id of the request this code runs for (also inside a job it submitted), if any."""
    return structlog.contextvars.get_contextvars().get("request_id")


def bind_job_context(**fields: Any) -> None:
    """Add fields (job_id, kind, attempt, service, request_id) to every line the current task logs from now on."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in fields.items() if v is not None})


def clear_context() -> None:
    structlog.contextvars.clear_contextvars()


def request_id_from(value: str | None) -> str:
    """The client's X-Request-ID when it is sane, else a new one."""
    if value and _SANE_REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """ASGI middleware: binds `request_id` for every line logged while the request runs, and echoes it.

    Takes the client's `X-Request-ID` when it is plain (letters, digits, `._:-`, at most 128),
    else makes one; the response carries it in `X-Request-ID`.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == REQUEST_ID_HEADER.encode()), None)
        request_id = request_id_from(offered)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER.encode()]
                message = {**message, "headers": [*headers, (REQUEST_ID_HEADER.encode(), request_id.encode())]}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_id)


def current_job_kind() -> str | None:
    """The kind of the job this code runs for, if any (bound by JobTask.__call__)."""
    return structlog.contextvars.get_contextvars().get("kind")
