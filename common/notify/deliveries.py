"""The delivery log's life: planned when a job finishes, then one row per attempt's outcome.

Planning reads the owner's preferences and writes one `queued` row per destination, with the
message composed once (every retry sends the same words). It is idempotent: a finish already
planned is not planned again. Each attempt locks its row, counts itself, and ends `sent`,
`failed`, or back to waiting for a retry with its error recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.db import utcnow
from common.jobs import Job
from common.notify import messages
from common.notify.models import Channel, Delivery, DeliveryStatus, Event, Preference, WebhookEndpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Destination:
    channel: Channel
    key: str  # Delivery.destination
    address: str
    endpoint_id: int | None = None


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt needs, read in a short transaction before anything is sent."""

    delivery_id: int
    channel: Channel
    address: str
    payload: dict[str, Any]
    number: int
    secret: str | None = None  # webhooks


def plan(
    *, session: Session, job_id: str, status: str, summarize: messages.Summarize, console_url: str, timezone: str,
) -> list[int]:
    """Queue the deliveries its owner chose for a finished job; returns the ids still to send.

    A job that no longer has `status` (an admin retried it since) is left to its next finish.
    """
    job = session.get(Job, job_id)
    if job is None or job.status != status or job.finished_at is None or status not in tuple(Event):
        log.info("job %s: not %s any more; nothing to notify", job_id, status)
        return []
    job.notified_at = utcnow()  # the outbox is settled by this transaction, whatever it plans
    destinations = destinations_for(session=session, user_id=job.owner_id, event=Event(status))
    if not destinations:
        return []
    existing = {
        row.destination: row
        for row in session.scalars(select(Delivery).where(Delivery.job_id == job.id, Delivery.job_finished_at == job.finished_at))
    }
    facts = messages.JobFacts(
        id=job.id, service=job.service, kind=job.kind, status=job.status, owner_username=job.owner_username,
        finished_at=job.finished_at, result=job.result, params=job.params or {}, error=job.error, error_code=job.error_code,
    )
    message = messages.compose(facts, summarize(facts), console_url=console_url, timezone=timezone)
    rows = list(existing.values())
    for destination in destinations:
        if destination.key in existing:
            continue
        row = Delivery(
            job_id=job.id, job_finished_at=job.finished_at, service=job.service, job_kind=job.kind, event=status,
            user_id=job.owner_id, channel=destination.channel, destination=destination.key,
            endpoint_id=destination.endpoint_id, target=mask(destination.channel, destination.address),
            address=destination.address, payload=message.payload(destination.channel), status=DeliveryStatus.QUEUED,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return [row.id for row in rows if row.status == DeliveryStatus.QUEUED]


def destinations_for(*, session: Session, user_id: int, event: Event) -> list[Destination]:
    """Where `user_id` wants to hear about `event`: e-mail, SMS, each webhook subscribed to it."""
    found: list[Destination] = []
    preference = session.get(Preference, user_id)
    if preference is not None:
        if preference.email_enabled and preference.email_address and event in preference.email_events:
            found.append(Destination(Channel.EMAIL, "email", preference.email_address))
        if preference.sms_enabled and preference.sms_phone and event in preference.sms_events:
            found.append(Destination(Channel.SMS, "sms", preference.sms_phone))
    endpoints = session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.user_id == user_id, WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookEndpoint.id)
    )
    found += [Destination(Channel.WEBHOOK, f"webhook:{endpoint.id}", endpoint.url, endpoint.id)
              for endpoint in endpoints if event in endpoint.events]
    return found


def begin(*, session: Session, delivery_id: int) -> Attempt | None:
    """Count an attempt of a queued delivery; None when there is nothing to send (sent, failed, gone)."""
    row = session.get(Delivery, delivery_id, with_for_update=True)
    if row is None or row.status != DeliveryStatus.QUEUED:
        return None
    secret = None
    if row.channel == Channel.WEBHOOK:
        endpoint = session.get(WebhookEndpoint, row.endpoint_id) if row.endpoint_id is not None else None
        if endpoint is None or not endpoint.enabled:
            _end(row, DeliveryStatus.FAILED, "El webhook se borró o se desactivó antes de poder entregarlo.")
            return None
        secret = endpoint.secret
    row.attempts += 1
    row.updated_at = utcnow()
    return Attempt(delivery_id=row.id, channel=Channel(row.channel), address=row.address, payload=dict(row.payload),
                   number=row.attempts, secret=secret)


def mark_sent(*, session: Session, delivery_id: int) -> None:
    row = session.get(Delivery, delivery_id, with_for_update=True)
    if row is not None:
        _end(row, DeliveryStatus.SENT, None)


def mark_failed(*, session: Session, delivery_id: int, error: str) -> None:
    """The delivery failed for good: a permanent refusal, or no retry left."""
    row = session.get(Delivery, delivery_id, with_for_update=True)
    if row is not None and row.status == DeliveryStatus.QUEUED:
        _end(row, DeliveryStatus.FAILED, error)


def record_error(*, session: Session, delivery_id: int, error: str) -> None:
    """An attempt failed and another will follow: the row stays queued and shows why."""
    row = session.get(Delivery, delivery_id, with_for_update=True)
    if row is not None and row.status == DeliveryStatus.QUEUED:
        row.last_error = error
        row.updated_at = utcnow()


def _end(row: Delivery, status: DeliveryStatus, error: str | None) -> None:
    now = utcnow()
    row.status = status
    row.updated_at = now
    if error is not None:
        row.last_error = error
    if status == DeliveryStatus.SENT:
        row.sent_at = now


def mask(channel: Channel | str, address: str) -> str:
    """What the log shows of an address: l***@timon.example, +34*****678, https://hooks.example/…"""
    if channel == Channel.EMAIL:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    if channel == Channel.SMS:
        return address[:3] + "*" * max(0, len(address) - 6) + address[-3:]
    scheme, _, rest = address.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0]
    return f"{scheme}://{host}/…"[:254]
