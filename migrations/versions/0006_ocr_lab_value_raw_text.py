"""veterinaria lab values keep the number as printed, and may be ambiguous (no value)

Revision ID: 0006_ocr
Revises: 0005_worker
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_ocr'
down_revision = '0005_worker'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('vet_lab_values', schema=None) as batch_op:
        batch_op.add_column(sa.Column('raw_value', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('ambiguous', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.alter_column('value', existing_type=sa.Float(), nullable=True)


def downgrade() -> None:
    # an ambiguous value has no number to keep in the older schema: those rows go
    op.execute("DELETE FROM vet_lab_values WHERE value IS NULL")
    with op.batch_alter_table('vet_lab_values', schema=None) as batch_op:
        batch_op.alter_column('value', existing_type=sa.Float(), nullable=False)
        batch_op.drop_column('ambiguous')
        batch_op.drop_column('raw_value')
