"""jobs can be cancelled and retried: jobs.cancel_requested_at/_by, jobs.retry_of

Revision ID: 0007_lifecycle
Revises: 0006_ocr
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_lifecycle'
down_revision = '0006_ocr'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancel_requested_by', sa.String(length=150), nullable=True))
        batch_op.add_column(sa.Column('retry_of', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_jobs_retry_of'), ['retry_of'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_retry_of'))
        batch_op.drop_column('retry_of')
        batch_op.drop_column('cancel_requested_by')
        batch_op.drop_column('cancel_requested_at')
