"""Real receivers for the notification tests: an SMTP server (aiosmtpd) and one HTTP server that is
both a webhook receiver (checks each signature) and an SMS provider speaking Twilio's Messages API.

Both run in the test process, on 127.0.0.1, and keep what they received for the tests to read.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import secrets
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from common.notify import signing
from tests.servers import free_port


class SmtpServer:
    """aiosmtpd on a free port, with AUTH (PLAIN/LOGIN, allowed without TLS on loopback); keeps every message."""

    def __init__(self, *, user: str, password: str):
        self.port = free_port()
        self.user, self.password = user, password
        self.messages: list[EmailMessage] = []
        self.controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.user \
            and auth_data.password.decode() == self.password
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 OK"

    def start(self) -> SmtpServer:
        # AUTH without TLS: on loopback, in a test (aiosmtpd warns about it on every connection)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, authenticator=self._authenticate,
                                     auth_require_tls=False, auth_required=True)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    valid_signature: bool | None = None
    form: dict[str, str] = field(default_factory=dict)


class HttpReceiver:
    """Webhooks at /hooks/<name> (answers from a per-name script, 200 after it) and Twilio's
    `POST /2010-04-01/Accounts/<sid>/Messages.json` (Basic auth and form fields checked, 201 JSON)."""

    def __init__(self, *, account_sid: str, auth_token: str):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.secrets: dict[str, str] = {}  # webhook name -> the secret the API gave at creation
        self.scripts: dict[str, deque[int]] = defaultdict(deque)  # webhook name -> statuses to answer first
        self.hooks: dict[str, list[Received]] = defaultdict(list)
        self.sms: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = receiver.handle(self.path, {k: v for k, v in self.headers.items()}, body)
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> HttpReceiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        route = urlsplit(path).path
        if route.startswith("/hooks/"):
            name = route.removeprefix("/hooks/")
            secret = self.secrets.get(name, "")
            valid = signing.verify(secret, timestamp=headers.get(signing.TIMESTAMP_HEADER, ""),
                                   signature=headers.get(signing.SIGNATURE_HEADER, ""), body=body)
            self.hooks[name].append(Received(route, headers, body, valid_signature=valid))
            if not valid:
                return 400, {"error": "bad signature"}
            script = self.scripts[name]
            return (script.popleft() if script else 200), {"ok": True}
        if route == f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
            if headers.get("Authorization") != expected:
                return 401, {"code": 20003, "message": "Authenticate", "status": 401}
            form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
            if not {"To", "From", "Body"} <= form.keys():
                return 400, {"code": 21604, "message": "A 'To', 'From' and 'Body' are required", "status": 400}
            self.sms.append(Received(route, headers, body, form=form))
            sid = "SM" + secrets.token_hex(16)
            return 201, {"sid": sid, "account_sid": self.account_sid, "to": form["To"], "from": form["From"],
                         "body": form["Body"], "status": "queued", "num_segments": "1"}
        return 404, {"error": "not found"}
