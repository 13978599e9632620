"""Request metrics of a web process and its `GET /metrics`.

A small ASGI middleware over prometheus_client rather than prometheus-fastapi-instrumentator: what
we need is three metrics labelled by the route *template* (`/mascotas/{pet_id}`, never the raw path,
so ids do not multiply the series), the exact status, and a /metrics answered before the request
guard (no JWT; loopback or METRICS_TOKEN). The instrumentator's defaults differ on each point (no
status on its latency histogram, status grouped as `2xx`, extra size histograms, an open /metrics)
and setting them all back would be more code than this.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.errors import error_body

METRICS_PATH = "/metrics"
UNMATCHED = "<unmatched>"  # every path that is no route of the app: one series, whatever was asked

REQUESTS = Counter("http_requests_total", "HTTP requests answered, by route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "Time to answer an HTTP request, by route template and status",
                    ["method", "route", "status"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
IN_PROGRESS = Gauge("http_requests_in_progress", "HTTP requests being answered", ["method"], multiprocess_mode="livesum")

FORBIDDEN_MESSAGE = (
    "Las métricas solo se sirven a este mismo equipo o con el token de métricas "
    "(cabecera Authorization: Bearer <METRICS_TOKEN>)."
)


def route_template(scope: Scope) -> str:
    """The template of the route that answers `scope` (`/mascotas/{pet_id}`), or UNMATCHED."""
    route = scope.get("route")  # set by FastAPI's routing when the request got that far
    if route is not None and getattr(route, "path", None):
        return route.path
    # a request refused before routing (no token, body too big) still names the route it asked for;
    # a known path with the wrong method (405) names its route too
    partial = UNMATCHED
    for candidate in _leaf_routes(getattr(getattr(scope.get("app"), "router", None), "routes", ())):
        match, _ = candidate.matches(scope)
        if match == Match.FULL:
            return candidate.path
        if match == Match.PARTIAL and partial == UNMATCHED:
            partial = candidate.path
    return partial


def _leaf_routes(routes) -> Iterator:
    # FastAPI keeps an included router as one entry holding the router (`original_router`); our
    # routers are included without a prefix, so their routes' own paths are the full templates
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _leaf_routes(inner.routes)
        elif getattr(route, "path", None):
            yield route


class HttpMetrics:
    """ASGI middleware: counts and times every request; answers `GET /metrics` itself.

    `/metrics` is served to loopback clients, and to others only with `Authorization: Bearer
    <token>` when a token is configured. It is not counted.
    """

    def __init__(self, app: ASGIApp, *, token: str | None = None):
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == METRICS_PATH and scope["method"] in ("GET", "HEAD"):
            await self._serve_metrics(scope, send)
            return
        method = scope["method"]
        status = 500  # what the client gets if the app raises before answering
        started = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        IN_PROGRESS.labels(method).inc()
        try:
            await self.app(scope, receive, recording_send)
        finally:
            IN_PROGRESS.labels(method).dec()
            labels = (method, route_template(scope), str(status))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - started)

    def _allowed(self, scope: Scope) -> bool:
        authorization = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"authorization"), "")
        scheme, _, offered = authorization.partition(" ")
        if self.token and scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(), self.token.encode()):
            return True
        client = scope.get("client")
        try:
            return client is not None and ipaddress.ip_address(client[0]).is_loopback
        except ValueError:
            return False

    async def _serve_metrics(self, scope: Scope, send: Send) -> None:
        if self._allowed(scope):
            status, content_type, body = 200, CONTENT_TYPE_LATEST, generate_latest(metrics_registry())
        else:
            status, content_type = 403, "application/json"
            body = json.dumps(error_body(detail=FORBIDDEN_MESSAGE, code="metrics_forbidden"), ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})


def metrics_registry() -> CollectorRegistry:
    """This process's metrics; all processes' under PROMETHEUS_MULTIPROC_DIR (several processes, one dir)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY
