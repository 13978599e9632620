"""Preferences, webhook endpoints and reading the delivery log: what the notifications API does."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.db import utcnow
from common.errors import BadInput, NotFound
from common.notify import signing
from common.notify.models import DEFAULT_EVENTS, Channel, Delivery, DeliveryStatus, Preference, WebhookEndpoint
from common.notify.schemas import ChannelRead, PreferencesIn, PreferencesRead, WebhookIn, WebhookRead, WebhookUpdate

#: webhooks one user may register
MAX_WEBHOOKS_PER_USER = 10


def get_preferences(*, session: Session, user_id: int, default_email: str | None) -> PreferencesRead:
    """The user's choices; before they save any, everything off and the account's e-mail proposed."""
    preference = session.get(Preference, user_id)
    webhooks = [WebhookRead.model_validate(endpoint) for endpoint in list_webhooks(session=session, user_id=user_id)]
    if preference is None:
        return PreferencesRead(
            email=ChannelRead(enabled=False, address=default_email, events=list(DEFAULT_EVENTS)),
            sms=ChannelRead(enabled=False, address=None, events=list(DEFAULT_EVENTS)),
            webhooks=webhooks, updated_at=None,
        )
    return PreferencesRead(
        email=ChannelRead(enabled=preference.email_enabled, address=preference.email_address, events=preference.email_events),
        sms=ChannelRead(enabled=preference.sms_enabled, address=preference.sms_phone, events=preference.sms_events),
        webhooks=webhooks, updated_at=preference.updated_at,
    )


def put_preferences(
    *, session: Session, user_id: int, preferences_in: PreferencesIn, default_email: str | None,
) -> PreferencesRead:
    """Replace the user's e-mail and SMS choices; e-mail goes to the account's address unless another is given."""
    email = preferences_in.email
    address = str(email.address) if email.address else (default_email or None)
    if email.enabled and not address:
        raise BadInput("Tu cuenta no tiene correo electrónico: indica una dirección en «email.address» "
                       "o pide al administrador que la añada a tu usuario.", code="notify_email_missing")
    sms = preferences_in.sms
    if sms.enabled and not sms.phone:
        raise BadInput("Para recibir SMS indica tu número en «sms.phone», en formato internacional (+34600111222).",
                       code="notify_phone_missing")
    preference = session.get(Preference, user_id) or Preference(user_id=user_id)
    preference.email_enabled, preference.email_address = email.enabled, address
    preference.email_events = [str(event) for event in email.events]
    preference.sms_enabled, preference.sms_phone = sms.enabled, sms.phone
    preference.sms_events = [str(event) for event in sms.events]
    preference.updated_at = utcnow()
    session.add(preference)
    session.flush()
    return get_preferences(session=session, user_id=user_id, default_email=default_email)


def list_webhooks(*, session: Session, user_id: int) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.user_id == user_id).order_by(WebhookEndpoint.id)))


def create_webhook(*, session: Session, user_id: int, webhook_in: WebhookIn) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (returned this once; every delivery is signed with it)."""
    if len(list_webhooks(session=session, user_id=user_id)) >= MAX_WEBHOOKS_PER_USER:
        raise BadInput(f"Ya tienes {MAX_WEBHOOKS_PER_USER} webhooks, el máximo: borra alguno antes de añadir otro.",
                       code="notify_too_many_webhooks")
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(user_id=user_id, url=webhook_in.url, secret=secret,
                               events=[str(event) for event in webhook_in.events], enabled=True)
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def get_webhook_or_404(*, session: Session, user_id: int, webhook_id: int) -> WebhookEndpoint:
    """One of the user's endpoints; anyone else's looks absent."""
    endpoint = session.get(WebhookEndpoint, webhook_id)
    if endpoint is None or endpoint.user_id != user_id:
        raise NotFound(f"No tienes ningún webhook con id {webhook_id}.", code="notify_webhook_not_found")
    return endpoint


def update_webhook(*, session: Session, user_id: int, webhook_id: int, webhook_in: WebhookUpdate) -> WebhookEndpoint:
    """Change which events an endpoint hears, or pause it."""
    endpoint = get_webhook_or_404(session=session, user_id=user_id, webhook_id=webhook_id)
    if webhook_in.events is not None:
        endpoint.events = [str(event) for event in webhook_in.events]
    if webhook_in.enabled is not None:
        endpoint.enabled = webhook_in.enabled
    session.flush()
    return endpoint


def delete_webhook(*, session: Session, user_id: int, webhook_id: int) -> None:
    """Remove an endpoint; its deliveries not yet sent end failed."""
    session.delete(get_webhook_or_404(session=session, user_id=user_id, webhook_id=webhook_id))
    session.flush()


def list_deliveries(
    *, session: Session, user_id: int | None, status: DeliveryStatus | None = None, channel: Channel | None = None,
    job_id: str | None = None, limit: int = 50, offset: int = 0,
) -> list[Delivery]:
    """The delivery log, newest first: one user's lines, or everyone's (`user_id=None`, for an admin)."""
    query = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit).offset(offset)
    if user_id is not None:
        query = query.where(Delivery.user_id == user_id)
    if status is not None:
        query = query.where(Delivery.status == status)
    if channel is not None:
        query = query.where(Delivery.channel == channel)
    if job_id is not None:
        query = query.where(Delivery.job_id == job_id)
    return list(session.scalars(query))
