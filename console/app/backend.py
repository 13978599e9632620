"""The console's only way to the services: their public HTTP APIs, called server-side with httpx.

Each answer that is not a success becomes one exception the page handlers map to a Spanish page:
a 401 ends the session (the token expired or was revoked), a 403 or 404 is shown as such, a
service that cannot be reached or fails is "no disponible". The services' own Spanish `detail`
is passed through, so the console says what the API says.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from common.telemetry.logs import current_request_id

log = logging.getLogger(__name__)

SERVICES = ("auth", "veterinaria", "petshop")
SERVICE_NAMES = {"auth": "el servicio de acceso", "veterinaria": "la clínica", "petshop": "la tienda"}


def _forward_request_id(request: httpx.Request) -> None:
    # the page's request id goes on to the service (and from there into the jobs it submits)
    request_id = current_request_id()
    if request_id:
        request.headers.setdefault("X-Request-ID", request_id)


class BackendError(Exception):
    """A service answered with an error, or could not be reached; `message` is Spanish."""

    status_code = 502

    def __init__(self, message: str, *, status_code: int | None = None, code: str | None = None,
                 field_errors: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field_errors = field_errors or []  # a validation error's {field, message (Spanish)} per bad field
        if status_code is not None:
            self.status_code = status_code


class SessionExpired(BackendError):
    status_code = 401


class BackendForbidden(BackendError):
    status_code = 403


class BackendNotFound(BackendError):
    status_code = 404


class BackendUnavailable(BackendError):
    status_code = 503


class Backend:
    """One pooled HTTP client for the three services (created with the app, closed with it)."""

    def __init__(self, *, urls: dict[str, str], timeout: float, transport: httpx.BaseTransport | None = None):
        self.urls = urls
        self.client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False,
                                   event_hooks={"request": [_forward_request_id]})

    def close(self) -> None:
        self.client.close()

    def login(self, *, username: str, password: str) -> dict[str, Any]:
        """POST /token at auth; a refused login raises BackendError with auth's own message (status 401/429)."""
        response = self._send("auth", "POST", "/token", token=None, data={"username": username, "password": password})
        if response.status_code != 200:
            raise BackendError(_detail(response), status_code=response.status_code, code=_code(response))
        return response.json()

    def get(self, service: str, path: str, *, token: str, params: dict[str, Any] | None = None) -> Any:
        return self.request(service, "GET", path, token=token, params=params)

    def request(self, service: str, method: str, path: str, *, token: str, raw: bool = False, **kwargs: Any) -> Any:
        """Call one service as the logged-in user and return its JSON (the response itself with `raw`),
        or raise the matching BackendError."""
        response = self._send(service, method, path, token=token, **kwargs)
        if response.status_code < 400:
            if raw:
                return response
            return response.json() if response.content else None
        detail, code = _detail(response), _code(response)
        if response.status_code == 401:
            raise SessionExpired(detail, code=code)
        if response.status_code == 403:
            raise BackendForbidden(detail, code=code)
        if response.status_code == 404:
            raise BackendNotFound(detail, code=code)
        if response.status_code >= 500:
            log.warning("%s %s %s answered %s: %s", service, method, path, response.status_code, detail)
            raise BackendUnavailable(
                f"Ahora mismo {SERVICE_NAMES[service]} no responde bien ({detail}). Inténtalo de nuevo en unos minutos.",
                code=code,
            )
        raise BackendError(detail, status_code=response.status_code, code=code, field_errors=_field_errors(response))

    def _send(self, service: str, method: str, path: str, *, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        params = kwargs.pop("params", None)
        if params:
            # the console's forms send empty fields; the APIs want them absent
            kwargs["params"] = {k: v for k, v in params.items() if v not in (None, "")}
        try:
            return self.client.request(method, f"{self.urls[service]}{path}", headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            log.warning("%s %s %s failed: %r", service, method, path, exc)
            raise BackendUnavailable(
                f"No se puede contactar con {SERVICE_NAMES[service]}. Comprueba que el sistema está en marcha "
                "e inténtalo de nuevo en unos minutos."
            ) from None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _detail(response: httpx.Response) -> str:
    detail = _json(response).get("detail")
    return detail if isinstance(detail, str) and detail else f"error {response.status_code}"


def _field_errors(response: httpx.Response) -> list[dict[str, str]]:
    errors = _json(response).get("errors")
    if not isinstance(errors, list):
        return []
    return [{"field": str(e.get("field") or ""), "message": str(e["message"])}
            for e in errors if isinstance(e, dict) and e.get("message")]


def _code(response: httpx.Response) -> str | None:
    code = _json(response).get("code")
    return code if isinstance(code, str) else None
