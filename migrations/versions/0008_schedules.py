"""schedules as rows: what an admin asked to run regularly (common/schedules)

Revision ID: 0008_schedules
Revises: 0007_lifecycle
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_schedules'
down_revision = '0007_lifecycle'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'schedules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('service', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('cron', sa.String(length=120), nullable=True),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('interval_seconds', sa.Integer(), nullable=True),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('owner_username', sa.String(length=150), nullable=False),
        sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_job_id', sa.String(length=36), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_error_code', sa.String(length=64), nullable=True),
        sa.Column('run_count', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules')),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_schedules_service_enabled_next_run_at', 'schedules', ['service', 'enabled', 'next_run_at'])


def downgrade() -> None:
    op.drop_index('ix_schedules_service_enabled_next_run_at', table_name='schedules')
    op.drop_table('schedules')
