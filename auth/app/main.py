"""The auth service (:8001): users, roles, login → JWT.

Run: `uvicorn --factory auth.app.main:create_app --port 8001`.
"""

from __future__ import annotations

import anyio
from fastapi import FastAPI

from auth.app import service
from auth.app.router import router
from auth.app.throttle import LoginThrottle
from common.config import Settings, load_settings
from common.notify.router import make_router as make_notifications_router
from common.web import create_service_app

DESCRIPTION = """
Users and roles of Timón Pet Store. **Log in** with `POST /token` (or the *Authorize* button above)
to get a bearer token that every service accepts.

Roles: `admin` (everything, user management), `veterinario` (clinical data), `empleado`
(shop staff: inventory), `cliente` (pet owner: their own pets and jobs).

**Notifications**: `PUT /users/me/notificaciones` chooses e-mail and SMS for your finished jobs,
`POST /users/me/notificaciones/webhooks` adds a signed webhook; `GET /notificaciones/entregas` is the
delivery log (admin).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    app = create_service_app(
        name="auth", title="Timón Pet Store — auth", description=DESCRIPTION, settings=settings,
        routers=[router, make_notifications_router(lambda session, user_id: service.email_of(session=session, user_id=user_id))],
    )
    app.state.login_throttle = LoginThrottle(settings)
    app.state.verify_limiter = anyio.CapacityLimiter(settings.login_max_concurrent_verifies)
    return app
