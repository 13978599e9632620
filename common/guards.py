"""What every request passes before any route sees it: no NUL in its address, a valid token before its
body is read, and a body no bigger than its kind allows while it streams in.

One ASGI middleware, so the refusals happen before FastAPI buffers or parses anything: a 300 MiB
JSON body without a token costs the service nothing, and a body over its cap stops being read at
the cap. Every refusal has the shared error shape (common/errors.py).
"""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.errors import DomainError, TooLarge, error_body
from common.security import VERIFIED_PRINCIPAL, principal_from_token
from common.types import NUL_MESSAGE

#: multipart framing (boundaries, part headers, the form fields next to the file)
MULTIPART_OVERHEAD = 64 * 1024
#: answered without a token: the login, liveness and the API description pages
PUBLIC_PATHS = frozenset({"/token", "/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


class RequestGuard:
    """ASGI middleware: NUL in path or query → 422; no valid token → 401; body over its cap → 413.

    Multipart bodies may be as big as an upload (`max_upload_bytes`); every other body (JSON, forms,
    anything else) is capped at `max_body_bytes`. A declared Content-Length over the cap is refused
    at once; a chunked body is counted as it arrives and refused at the cap.
    """

    def __init__(self, app: ASGIApp, *, max_upload_bytes: int, max_body_bytes: int, check_tokens: bool = True):
        self.app = app
        self.max_upload_bytes = max_upload_bytes + MULTIPART_OVERHEAD
        self.max_body_bytes = max_body_bytes
        self.check_tokens = check_tokens
        self.upload_message = (
            f"El archivo supera el límite de {max_upload_bytes // (1024 * 1024)} MB. "
            "Divídelo en archivos más pequeños o pide al administrador que suba MAX_UPLOAD_MB."
        )
        self.body_message = (
            f"Los datos enviados superan el límite de {_size(max_body_bytes)}. "
            "Envíalos en varias peticiones más pequeñas o, si es un archivo, súbelo como archivo."
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            self._check_address(scope)
            if self.check_tokens and scope["method"] != "OPTIONS" and scope["path"] not in PUBLIC_PATHS:
                self._check_token(scope)
            limit, refusal = self._limit(scope)
        except DomainError as exc:
            await _reject(send, exc, close=_has_body(scope))
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _reject(send, refusal, close=True)
            return
        received = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # answer here and tell the app the client left: it stops reading, and what it
                    # would answer to that is dropped below
                    refused = True
                    await _reject(send, refusal, close=True)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counting_receive, guarded_send)

    @staticmethod
    def _check_address(scope: Scope) -> None:
        query = unquote_plus(scope.get("query_string", b"").decode("latin-1"))
        if "\x00" in scope["path"] or "\x00" in query:
            raise _NulInAddress(f"La dirección {NUL_MESSAGE}: quítalo de la ruta o de los parámetros.", code="nul_character")

    @staticmethod
    def _check_token(scope: Scope) -> None:
        authorization = _header(scope, b"authorization") or ""
        scheme, _, token = authorization.partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        # kept for get_current_principal (scope["state"] is request.state): one signature check a request
        scope.setdefault("state", {})[VERIFIED_PRINCIPAL] = (token, principal_from_token(scope["app"].state.token_codec, token))

    def _limit(self, scope: Scope) -> tuple[int, DomainError]:
        if (_header(scope, b"content-type") or "").lower().startswith("multipart/"):
            return self.max_upload_bytes, TooLarge(self.upload_message, code="upload_too_large")
        return self.max_body_bytes, TooLarge(self.body_message, code="body_too_large")


class _NulInAddress(DomainError):
    status_code = 422
    default_code = "nul_character"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def _has_body(scope: Scope) -> bool:
    return _header(scope, b"transfer-encoding") is not None or (_header(scope, b"content-length") or "0") != "0"


async def _reject(send: Send, exc: DomainError, *, close: bool) -> None:
    body = json.dumps(error_body(detail=exc.message, code=exc.code), ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (exc.headers or {}).items()]
    if close:
        headers.append((b"connection", b"close"))  # the unread body is not worth draining
    await send({"type": "http.response.start", "status": exc.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})

