"""The `schedules` table: what an admin asked to run regularly, and where each schedule stands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, UTCDateTime, utcnow


class Schedule(Base):
    __tablename__ = "schedules"
    __table_args__ = (
        Index("ix_schedules_service_enabled_next_run_at", "service", "enabled", "next_run_at"),
        {"sqlite_autoincrement": True},  # a deleted schedule's id is never given to a new one
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service: Mapped[str] = mapped_column(String(32))  # the queue service whose job kind it runs
    name: Mapped[str] = mapped_column(String(200))  # for people: «Stock bajo tienda 1, cada mañana»
    kind: Mapped[str] = mapped_column(String(64))  # a job kind of that service (common/schedules/kinds.py)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # validated by the kind when created
    cron: Mapped[str | None] = mapped_column(String(120), default=None)  # five fields, or None with an interval
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # IANA zone the crontab reads
    interval_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    owner_id: Mapped[int] = mapped_column(Integer)  # the admin who created it owns every run's job
    owner_username: Mapped[str] = mapped_column(String(150))
    # the claim: a run is fired by the one transaction that moves next_run_at on (see service.fire)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_job_id: Mapped[str | None] = mapped_column(String(36), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)  # why the last run made no job, in Spanish
    last_error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    run_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
