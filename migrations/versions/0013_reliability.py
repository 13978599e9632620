"""jobs.notified_at and its partial index: the notification outbox (common/notify/outbox.py)

A finished job with notified_at NULL still owes its notifications; jobs finished before this
migration count as notified, so upgrading sends nothing old.

Revision ID: 0013_reliability
Revises: 0012_page_tasks
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013_reliability'
down_revision = '0012_page_tasks'
branch_labels = None
depends_on = None

OWED = "notified_at IS NULL AND finished_at IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE jobs SET notified_at = finished_at WHERE finished_at IS NOT NULL")
    op.create_index("ix_jobs_unnotified", "jobs", ["service", "finished_at"], unique=False,
                    postgresql_where=sa.text(OWED), sqlite_where=sa.text(OWED))


def downgrade() -> None:
    op.drop_index("ix_jobs_unnotified", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("notified_at")
