"""The schedules API's bodies and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from common.types import SafeText


class ScheduleCreate(BaseModel):
    """A schedule: a job kind of this service with its parameters, and when to run it (a crontab or an interval)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "name": "Stock bajo tienda 1, cada mañana", "kind": "inventory_report",
            "params": {"store_id": 1, "report_type": "stock_low"}, "cron": "30 7 * * *", "timezone": "Europe/Madrid",
        }]},
    )

    name: Annotated[SafeText, Field(min_length=1, max_length=200, description="What people call it")]
    kind: Annotated[str, Field(max_length=64, description="A job kind of this service: see GET /schedules/kinds")]
    params: dict[str, Any] = Field(default_factory=dict, description="The kind's parameters")
    cron: Annotated[str | None, Field(max_length=120, description="minute hour day month weekday, e.g. `30 7 * * *`")] = None
    timezone: Annotated[str, Field(max_length=64, description="IANA zone the crontab's times are in")] = "Europe/Madrid"
    interval_seconds: Annotated[int | None, Field(ge=1, le=366 * 24 * 3600, description="Instead of `cron`: run every N seconds")] = None
    enabled: bool = True


class ScheduleRead(BaseModel):
    """A schedule and where it stands: its next run, and the job its last run made."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    service: str
    name: str
    kind: str
    params: dict[str, Any]
    cron: str | None
    timezone: str
    interval_seconds: int | None
    enabled: bool
    owner_id: int = Field(description="The admin who created it: every run's job is theirs")
    owner_username: str
    next_run_at: datetime | None = Field(description="UTC; null while paused")
    last_run_at: datetime | None
    last_job_id: str | None = Field(description="The job of the last run: GET /jobs/{id}")
    last_error: str | None = Field(description="Why the last run made no job (the store was deleted, the queue was down…)")
    last_error_code: str | None
    run_count: int
    created_at: datetime
    updated_at: datetime


class ScheduledKindRead(BaseModel):
    """A job kind that can be scheduled here, and the JSON schema of its params."""

    kind: str
    description: str
    params_schema: dict[str, Any]
