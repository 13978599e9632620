"""Request and response bodies of the auth service."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from common.security import Role
from common.types import Password, RequestBody

USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]+$"


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires", examples=[3600])


class UserCreate(RequestBody):
    username: str = Field(min_length=3, max_length=150, pattern=USERNAME_PATTERN, examples=["lucia.vet"])
    password: Password = Field(examples=["una-clave-larga-y-secreta"])
    role: Role = Field(examples=[Role.VET])
    full_name: str = Field(default="", max_length=200, examples=["Lucía Fernández"])
    email: EmailStr | None = Field(default=None, examples=["lucia@timon.example"])


class UserUpdate(RequestBody):
    """Only the fields sent change. `email` may be null (removes it); the others may be left out, not nulled."""

    # typed without None and defaulting to None: leaving a field out is fine, sending null is a 422
    password: Password = Field(default=None)
    role: Role = Field(default=None)
    full_name: str = Field(default=None, max_length=200)
    email: EmailStr | None = None
    is_active: bool = Field(default=None)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    email: str | None
    role: Role
    is_active: bool
    created_at: datetime
