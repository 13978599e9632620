"""Tables of the notifications package: written through the auth service's API and by the workers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, UTCDateTime, utcnow


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


class Event(StrEnum):
    """What a notification is about: how the job ended."""

    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"  # waiting for its first attempt, or for a retry
    SENT = "sent"
    FAILED = "failed"  # for good: a permanent refusal, or the retries ran out


DEFAULT_EVENTS = [Event.COMPLETED.value, Event.FAILED.value]


class Preference(Base):
    """One user's e-mail and SMS choices (webhooks are endpoints of their own)."""

    __tablename__ = "notify_preferences"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    email_address: Mapped[str | None] = mapped_column(String(254), default=None)
    email_events: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_EVENTS))
    sms_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_phone: Mapped[str | None] = mapped_column(String(16), default=None)  # E.164
    sms_events: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_EVENTS))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WebhookEndpoint(Base):
    __tablename__ = "notify_webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # kept as is: every delivery is signed with it; shown to its owner once, at creation
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_EVENTS))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Delivery(Base):
    """One message to one destination about one finished job: the delivery log."""

    __tablename__ = "notify_deliveries"
    __table_args__ = (
        # a finish is planned once per destination, however often the planning task runs
        UniqueConstraint("job_id", "job_finished_at", "destination", name="uq_notify_deliveries_job_destination"),
        Index("ix_notify_deliveries_user_id_created_at", "user_id", "created_at"),
        Index("ix_notify_deliveries_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36))
    job_finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    service: Mapped[str] = mapped_column(String(32))
    job_kind: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(64))  # "email", "sms", "webhook:<endpoint id>"
    endpoint_id: Mapped[int | None] = mapped_column(Integer, default=None)
    target: Mapped[str] = mapped_column(String(254))  # masked, for the log
    address: Mapped[str] = mapped_column(String(2000))  # the real address, phone or URL; never shown by the API
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the message as composed when the job finished
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
