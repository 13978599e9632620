"""Request and response bodies of the notifications API (on the auth service)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from common.notify.models import DEFAULT_EVENTS, Channel, DeliveryStatus, Event
from common.types import RequestBody
from common.validation_messages import InvalidValue

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _e164(value: str) -> str:
    if not E164.match(value):
        raise InvalidValue("debe ser un número en formato internacional E.164, con el prefijo del país: +34600111222")
    return value


def _webhook_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidValue("debe ser una dirección http:// o https:// completa, p. ej. https://ejemplo.com/avisos")
    if parts.username or parts.password:
        raise InvalidValue("no puede llevar usuario ni contraseña; cada aviso va firmado con el secreto del webhook")
    return value


def _unique_events(value: list[Event]) -> list[Event]:
    return list(dict.fromkeys(value))


Phone = Annotated[str, Field(max_length=16, examples=["+34600111222"]), AfterValidator(_e164)]
WebhookUrl = Annotated[str, Field(min_length=8, max_length=2000, examples=["https://ejemplo.com/avisos"]),
                       AfterValidator(_webhook_url)]
Events = Annotated[list[Event], Field(max_length=3, examples=[DEFAULT_EVENTS],
                                      description="Which endings to hear about: completed, failed, cancelled"),
                   AfterValidator(_unique_events)]


class EmailChannelIn(RequestBody):
    enabled: bool
    address: EmailStr | None = Field(default=None, description="Default: the e-mail of your user account")
    events: Events = Field(default_factory=lambda: list(DEFAULT_EVENTS))


class SmsChannelIn(RequestBody):
    enabled: bool
    phone: Phone | None = None
    events: Events = Field(default_factory=lambda: list(DEFAULT_EVENTS))


class PreferencesIn(RequestBody):
    """Both channels, as they should be from now on (a channel left out is turned off)."""

    email: EmailChannelIn = Field(default_factory=lambda: EmailChannelIn(enabled=False))
    sms: SmsChannelIn = Field(default_factory=lambda: SmsChannelIn(enabled=False))


class ChannelRead(BaseModel):
    enabled: bool
    address: str | None = Field(description="E-mail address or phone number")
    events: list[Event]


class WebhookIn(RequestBody):
    url: WebhookUrl
    events: Events = Field(default_factory=lambda: list(DEFAULT_EVENTS))


class WebhookUpdate(RequestBody):
    """Only the fields sent change."""

    events: Events = Field(default=None)
    enabled: bool = Field(default=None)


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[Event]
    enabled: bool
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Signs every delivery to this endpoint (X-Timon-Signature). Shown only now: keep it.")


class PreferencesRead(BaseModel):
    email: ChannelRead
    sms: ChannelRead
    webhooks: list[WebhookRead]
    updated_at: datetime | None = Field(description="null until you save your preferences the first time")


class DeliveryRead(BaseModel):
    """One line of the delivery log."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    job_id: str
    service: str
    job_kind: str
    event: Event
    user_id: int
    channel: Channel
    target: str = Field(description="The address, masked", examples=["l***@timon.example"])
    status: DeliveryStatus
    attempts: int
    last_error: str | None = Field(description="What went wrong last, in Spanish")
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
