"""Bodies before auth: a request without a valid token, or with a body over its cap, is answered
before its body is read. Raw sockets, so the test sends the headers and then waits for the answer
without sending a byte of the body: a service that reads first never answers.
"""

from __future__ import annotations

import json
import socket

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from common.config import Settings
from common.errors import install_error_handlers
from common.guards import RequestGuard
from common.security import CurrentUser, Role, TokenCodec

BIG = 300 * 1024 * 1024


def send_headers_only(url: str, method: str, path: str, headers: dict[str, str], *, wait: float = 10) -> tuple[int, dict, dict]:
    """Send a request line and headers (the body is promised, never sent); the status, headers and JSON answered."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
        sock.sendall("\r\n".join(lines).encode())
        raw = b""
        while b"\r\n\r\n" not in raw or len(raw.split(b"\r\n\r\n", 1)[1]) < _length(raw):
            chunk = sock.recv(65536)
            if not chunk:
                break
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    answered = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in answered.items()}, json.loads(body)


def _length(raw: bytes) -> int:
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


@pytest.mark.parametrize(
    ("service", "path", "content_type"),
    [
        ("petshop", "/tiendas/", "application/json"),
        ("auth", "/users/", "application/json"),
        ("veterinaria", "/propietarios/", "application/x-www-form-urlencoded"),
        ("petshop", "/upload-inventario/", "multipart/form-data; boundary=x"),
        ("petshop", "/no-such-route", "text/plain"),
    ],
)
def test_a_body_without_a_token_is_refused_before_it_is_read(stack, service, path, content_type):
    status, headers, body = send_headers_only(
        stack.url(service), "POST", path, {"Content-Type": content_type, "Content-Length": str(BIG)}
    )

    assert status == 401
    assert body["code"] == "not_authenticated" and "Inicia sesión" in body["detail"]
    assert headers["www-authenticate"] == "Bearer"


def test_a_forged_token_is_refused_before_the_body_is_read(stack):
    status, _, body = send_headers_only(
        stack.url("petshop"), "POST", "/tiendas/",
        {"Content-Type": "application/json", "Content-Length": str(BIG), "Authorization": "Bearer not.a.token"},
    )

    assert (status, body["code"]) == (401, "invalid_token")


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded", "text/plain"])
def test_a_declared_body_over_the_cap_is_413_before_it_is_read(stack, admin, content_type):
    headers = {**admin.headers, "Content-Type": content_type, "Content-Length": str(BIG)}

    status, _, body = send_headers_only(stack.url("petshop"), "POST", "/tiendas/", headers)

    assert status == 413
    assert body["code"] == "body_too_large" and "límite de 8 MB" in body["detail"]


def test_a_streamed_json_body_stops_being_read_at_the_cap(stack, admin):
    sent = 0

    def chunks():
        nonlocal sent
        yield b'{"name": "'
        while sent < 64 * 1024 * 1024:
            sent += 1024 * 1024
            yield b"a" * (1024 * 1024)
        yield b'"}'

    try:
        response = httpx.post(f"{stack.url('petshop')}/tiendas/", content=chunks(), timeout=30,
                              headers={**admin.headers, "Content-Type": "application/json"})
    except httpx.TransportError:
        response = None  # the service closed the connection once it had refused the body

    assert sent < 64 * 1024 * 1024
    if response is not None:
        assert (response.status_code, response.json()["code"]) == (413, "body_too_large")


def test_the_login_and_the_public_pages_need_no_token(stack, anonymous):
    assert anonymous.get("petshop", "/health").status_code == 200
    assert anonymous.get("veterinaria", "/openapi.json").status_code == 200
    assert anonymous.get("auth", "/docs").status_code == 200
    assert httpx.post(f"{stack.url('auth')}/token", data={"username": "admin", "password": stack.admin_password}).status_code == 200



def test_a_token_is_verified_once_per_request_and_a_forged_one_still_fails(tmp_path):
    # the guard verifies the token before any body is read; the route's dependency takes the
    # Principal the guard left in request.state instead of checking the signature again
    class CountingCodec(TokenCodec):
        checks = 0

        def verify(self, token: str):
            CountingCodec.checks += 1
            return super().verify(token)

    codec = CountingCodec(Settings(var_dir=tmp_path, jwt_secret="s" * 40))
    app = FastAPI()
    app.state.token_codec = codec
    install_error_handlers(app)

    @app.get("/yo")
    def me(user: CurrentUser) -> dict:
        return {"username": user.username, "role": user.role.value}

    app.add_middleware(RequestGuard, max_upload_bytes=1 << 20, max_body_bytes=1 << 16)
    token, _ = codec.issue(user_id=5, username="lucia", role=Role.STAFF)
    with TestClient(app) as client:
        answered = client.get("/yo", headers={"Authorization": f"Bearer {token}"})
        assert (answered.status_code, answered.json()) == (200, {"username": "lucia", "role": "empleado"})
        assert CountingCodec.checks == 1

        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        refused = client.get("/yo", headers={"Authorization": f"Bearer {forged}"})
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"
