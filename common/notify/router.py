"""The notifications API, mounted on the auth service: preferences, webhooks, the delivery log."""

# no `from __future__ import annotations`: FastAPI must resolve `DefaultEmail`, a name local to make_router
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from common.notify import service
from common.notify.models import Channel, DeliveryStatus
from common.notify.schemas import (
    DeliveryRead,
    PreferencesIn,
    PreferencesRead,
    WebhookCreated,
    WebhookIn,
    WebhookRead,
    WebhookUpdate,
)
from common.security import AdminUser, CurrentUser
from common.types import DbId, Offset
from common.web import SessionDep

TAG = "notificaciones"
JobId = Annotated[str | None, Query(max_length=36, description="Only this job's deliveries")]
Limit = Annotated[int, Query(ge=1, le=200)]


def make_router(default_email: Callable[[Session, int], str | None]) -> APIRouter:
    """The routes; `default_email(session, user_id)` is the account's e-mail (auth owns it)."""
    router = APIRouter(tags=[TAG])

    def account_email(user: CurrentUser, session: SessionDep) -> str | None:
        return default_email(session, user.id)

    DefaultEmail = Annotated[str | None, Depends(account_email)]

    @router.get("/users/me/notificaciones", response_model=PreferencesRead)
    def read_preferences(user: CurrentUser, session: SessionDep, email: DefaultEmail):
        """Your notification choices: e-mail, SMS and webhooks, each for the endings you pick.

        Until you save them everything is off, and `email.address` proposes your account's e-mail.
        """
        return service.get_preferences(session=session, user_id=user.id, default_email=email)

    @router.put("/users/me/notificaciones", response_model=PreferencesRead)
    def save_preferences(preferences_in: PreferencesIn, user: CurrentUser, session: SessionDep, email: DefaultEmail):
        """Choose how you hear that your jobs finished: e-mail (your account's, or another address) and SMS (E.164).

        `events` per channel: `completed`, `failed`, `cancelled`. Webhooks are managed below.
        """
        return service.put_preferences(session=session, user_id=user.id, preferences_in=preferences_in, default_email=email)

    @router.post("/users/me/notificaciones/webhooks", response_model=WebhookCreated, status_code=status.HTTP_201_CREATED)
    def create_webhook(webhook_in: WebhookIn, user: CurrentUser, session: SessionDep):
        """Add an endpoint that receives a signed JSON POST when your jobs finish.

        The answer carries the endpoint's `secret`, shown only this once: it signs every delivery
        (`X-Timon-Signature: sha256=HMAC(secret, "<X-Timon-Timestamp>.<body>")`).
        """
        endpoint, secret = service.create_webhook(session=session, user_id=user.id, webhook_in=webhook_in)
        return WebhookCreated.model_validate({**WebhookRead.model_validate(endpoint).model_dump(), "secret": secret})

    @router.get("/users/me/notificaciones/webhooks", response_model=list[WebhookRead])
    def list_webhooks(user: CurrentUser, session: SessionDep):
        """Your webhook endpoints (their secrets are never shown again)."""
        return service.list_webhooks(session=session, user_id=user.id)

    @router.patch("/users/me/notificaciones/webhooks/{webhook_id}", response_model=WebhookRead)
    def update_webhook(webhook_id: DbId, webhook_in: WebhookUpdate, user: CurrentUser, session: SessionDep):
        """Change which endings an endpoint hears about, or pause it (`enabled: false`)."""
        return service.update_webhook(session=session, user_id=user.id, webhook_id=webhook_id, webhook_in=webhook_in)

    @router.delete("/users/me/notificaciones/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
    def delete_webhook(webhook_id: DbId, user: CurrentUser, session: SessionDep) -> Response:
        """Remove an endpoint; what was still waiting to reach it is not sent."""
        service.delete_webhook(session=session, user_id=user.id, webhook_id=webhook_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/users/me/notificaciones/entregas", response_model=list[DeliveryRead])
    def my_deliveries(
        user: CurrentUser, session: SessionDep, status: DeliveryStatus | None = None, channel: Channel | None = None,
        job_id: JobId = None, limit: Limit = 50, offset: Offset = 0,
    ):
        """The notifications sent to you (or trying to be), newest first; addresses masked."""
        return service.list_deliveries(session=session, user_id=user.id, status=status, channel=channel,
                                       job_id=job_id, limit=limit, offset=offset)

    @router.get("/notificaciones/entregas", response_model=list[DeliveryRead])
    def all_deliveries(
        _admin: AdminUser, session: SessionDep, status: DeliveryStatus | None = None, channel: Channel | None = None,
        job_id: JobId = None, user_id: DbId | None = None, limit: Limit = 50, offset: Offset = 0,
    ):
        """Everyone's delivery log (admin only), newest first: filter by `status`, `channel`, `job_id`, `user_id`."""
        return service.list_deliveries(session=session, user_id=user_id, status=status, channel=channel,
                                       job_id=job_id, limit=limit, offset=offset)

    return router
