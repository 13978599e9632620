"""How each channel sends: e-mail over SMTP (smtplib), webhooks and SMS over HTTP (httpx).

Every failure is a `DeliveryError` that says whether trying again can help (`retry`) and, in
Spanish, what happened (the delivery log shows it to an admin). Credentials come from the settings
(or their *_FILE variants), read when a message is sent.
"""

from __future__ import annotations

import ipaddress
import json
import os
import smtplib
import socket
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

import httpx

from common.config import Settings
from common.notify import signing

USER_AGENT = "Timon-Notifications/1"
#: answers worth another try: the receiver was busy or timed out; any other 4xx will not change
RETRYABLE_4XX = {408, 425, 429}


class DeliveryError(Exception):
    def __init__(self, message: str, *, retry: bool):
        super().__init__(message)
        self.message = message
        self.retry = retry


def send_email(*, settings: Settings, to: str, payload: dict[str, Any]) -> None:
    """Send the e-mail (plain text with an HTML alternative) through SMTP_HOST."""
    if not settings.smtp_host:
        raise DeliveryError("El correo no está configurado en este sistema (falta SMTP_HOST).", retry=False)
    message = EmailMessage()
    message["Subject"] = payload["subject"]
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="timon.local")
    message.set_content(payload["text"])
    message.add_alternative(payload["html"], subtype="html")
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password_value)
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise DeliveryError(f"El servidor de correo rechazó la dirección (código {codes[0]}).",
                            retry=all(400 <= code < 500 for code in codes)) from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"El servidor de correo respondió {exc.smtp_code}: {_text(exc.smtp_error)}",
                            retry=exc.smtp_code < 500) from None
    except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, disconnected
        raise DeliveryError(f"No se pudo contactar con el servidor de correo ({type(exc).__name__}).", retry=True) from None


def post_webhook(*, settings: Settings, url: str, secret: str, body: dict[str, Any], delivery_id: int) -> None:
    """POST the JSON body, signed; 2xx is delivered, 408/425/429/5xx and timeouts retry, other answers are final."""
    if not settings.notify_webhook_allow_private:
        _refuse_private_address(url)
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.sign(secret, timestamp, raw),
        signing.DELIVERY_HEADER: str(delivery_id),
    }
    response = _post(url, settings.notify_webhook_timeout_seconds, content=raw, headers=headers)
    if 200 <= response.status_code < 300:
        return
    raise DeliveryError(f"El webhook respondió {response.status_code}.", retry=_retryable(response.status_code))


def send_sms(*, settings: Settings, to: str, body: str) -> None:
    """Send the SMS through Twilio's Messages API shape; 201 is sent."""
    token = settings.sms_auth_token_value
    if not (settings.sms_account_sid and token and settings.sms_from):
        raise DeliveryError("Los SMS no están configurados en este sistema (faltan SMS_ACCOUNT_SID, "
                            "SMS_AUTH_TOKEN o SMS_FROM).", retry=False)
    url = f"{settings.sms_api_url}/2010-04-01/Accounts/{settings.sms_account_sid}/Messages.json"
    response = _post(url, settings.sms_timeout_seconds, data={"To": to, "From": settings.sms_from, "Body": body},
                     auth=(settings.sms_account_sid, token), headers={"User-Agent": USER_AGENT})
    if response.status_code in (200, 201):
        return
    raise DeliveryError(f"El proveedor de SMS respondió {response.status_code}: {_provider_message(response)}",
                        retry=_retryable(response.status_code))


_clients: dict[int, httpx.Client] = {}


def _client() -> httpx.Client:
    # one pooled client per process (building one loads the TLS trust store); a forked child makes its own
    client = _clients.get(os.getpid())
    if client is None:
        # no redirects: a signed body must reach the URL its owner registered, not wherever it points
        client = _clients[os.getpid()] = httpx.Client(follow_redirects=False)
    return client


def _post(url: str, timeout: float, **kwargs: Any) -> httpx.Response:
    try:
        return _client().post(url, timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), **kwargs)
    except httpx.TimeoutException:
        raise DeliveryError("El destino no respondió a tiempo.", retry=True) from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"No se pudo contactar con el destino ({type(exc).__name__}).", retry=True) from None


def _retryable(status: int) -> bool:
    return status >= 500 or status in RETRYABLE_4XX


def _refuse_private_address(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        raise DeliveryError(f"No se encontró el servidor «{host}».", retry=True) from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise DeliveryError(f"El webhook apunta a una dirección interna ({ip}), que no está permitida.", retry=False)


def _provider_message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", ""))[:300]
    except ValueError:
        return response.text[:300]


def _text(value: bytes | str) -> str:
    return (value.decode(errors="replace") if isinstance(value, bytes) else str(value))[:300]
