"""Jinja2 templates and what every page gets: the user, their menu, the CSRF token, a flash message."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.responses import Response

from console.app.session import ROLE_NAMES, csrf_token, menu_for, optional_user

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def money(value: Any) -> str:
    """12.5 -> '12,50 €' (the shop's way of writing prices)."""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    whole, cents = f"{amount:,.2f}".split(".")
    return f"{whole.replace(',', '.')},{cents} €"


def number(value: Any) -> str:
    """12.40 -> '12,4' (a decimal comma, no trailing zeros)."""
    try:
        amount = Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{amount:f}".replace(".", ",")


def when(value: str | None, zone: ZoneInfo) -> str:
    """An API timestamp (UTC) as the shop reads it, in its own zone: 02/12/2026 14:05."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return moment.strftime("%d/%m/%Y %H:%M")


def day(value: str | None) -> str:
    """An API date as people here write it: 2024-02-15 -> 15/02/2024."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return value


@pass_context
def _when(context, value: str | None) -> str:
    return when(value, context["request"].app.state.timezone)


TEMPLATES.env.filters["money"] = money
TEMPLATES.env.filters["number"] = number
TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["day"] = day
TEMPLATES.env.globals["ROLE_NAMES"] = ROLE_NAMES


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> Response:
    user = context.pop("user", None) or optional_user(request)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "menu": menu_for(user.role) if user else [],
            "csrf_token": csrf_token(request),
            "flash": request.session.pop("flash", None),
            **context,
        },
        status_code=status_code,
    )
