"""Metrics (Prometheus) and structured logs (structlog) for every process.

- `logs`: one logging pipeline per process, with `request_id` / `job_id` context on every line;
- `http`: request metrics of a web process and its `GET /metrics`;
- `job_metrics`: jobs finished, durations, queue waits, retries, rows imported, pages read;
- `worker`: the Celery side (logging set-up, job context, the worker's metrics exporter).
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the Celery processes import this package too, and need no FastAPI
    from fastapi import FastAPI

    from common.config import Settings

#: `FastAPI(telemetry=...)` for every app: our metrics are prometheus-client's and our logs
#: structlog's. FastAPI's own OpenTelemetry bridge, left on, asks the global OTel providers on every
#: request whether anyone has configured them.
NO_OPENTELEMETRY: dict[str, bool] = {"tracing": False, "metrics": False, "logs": False}


def freeze_startup_objects() -> None:
    """Move everything the app built at start (modules, routes, models: ~150,000 objects) out of the
    garbage collector's reach, once, as it begins serving.

    A full collection walks every tracked object: ~100 ms in an API process, stopping every request
    in flight (the load bench's 0.4 s stalls). Frozen, those objects are never walked again; what
    requests allocate is collected as before.
    """
    gc.collect()
    gc.freeze()


def instrument_app(app: FastAPI, *, process: str, settings: Settings) -> None:
    """Logs, request ids and request metrics for a web app; call it after the app's other middleware.

    Added last, the two middlewares are the outermost: a request the guard refuses is counted and
    carries its id too.
    """
    from common.telemetry import job_metrics  # noqa: F401  (a publish that fails finishes its job here)
    from common.telemetry.http import HttpMetrics
    from common.telemetry.logs import RequestIdMiddleware, configure_logging

    configure_logging(process=process, log_format=settings.log_format, level=settings.log_level)
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    app.add_middleware(HttpMetrics, token=token)
    app.add_middleware(RequestIdMiddleware)
