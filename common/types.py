"""Annotated types for what a request may carry, bounded to what both databases store.

SQLite stores any integer and any text; PostgreSQL refuses an id past int4, an offset past int8,
a NUL character in text and a date before year 1, and answered those with a 500. These types
refuse them as a 422 naming the field, on both databases, wherever they are used: path, query,
form or body.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from common.validation_messages import InvalidValue

INT4_MAX = 2**31 - 1
#: the dates the clinic and the shop deal in; outside them date arithmetic (30 days before
#: 0001-01-05) overflows and no record can sensibly be
FIRST_YEAR, LAST_YEAR = 1900, 2999

NUL_MESSAGE = "no puede contener el carácter nulo (\\0)"


def refuse_nul(value: Any) -> Any:
    """Any text anywhere in `value` (nested lists and dicts too) without a NUL character."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidValue(NUL_MESSAGE)
    elif isinstance(value, list | tuple | set):
        for item in value:
            refuse_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(key)
            refuse_nul(item)
    return value


def _within_years(value: dt.date | None) -> dt.date | None:
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise InvalidValue(f"debe ser una fecha entre los años {FIRST_YEAR} y {LAST_YEAR}")
    return value


#: a row id: positive and within PostgreSQL's integer
DbId = Annotated[int, Ge(1), Le(INT4_MAX)]
#: how many rows to skip in a list
Offset = Annotated[int, Ge(0), Le(INT4_MAX)]
#: a count of units (stock, sale lines) that fits an integer column
Quantity = Annotated[int, Ge(0), Le(INT4_MAX)]
#: text with no NUL character (PostgreSQL cannot store one)
SafeText = Annotated[str, AfterValidator(refuse_nul)]
#: an account password, as the API accepts it (and as ADMIN_PASSWORD must be, see common/config.py)
Password = Annotated[SafeText, Field(min_length=10, max_length=256)]
ApiDate = Annotated[dt.date, AfterValidator(_within_years)]
ApiDateTime = Annotated[dt.datetime, AfterValidator(_within_years)]


class RequestBody(BaseModel):
    """Base of every request body: unknown fields refused, and no NUL in any text it carries."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)
