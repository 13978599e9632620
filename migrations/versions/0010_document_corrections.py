"""veterinaria documents keep the OCR's reading beside a vet's correction

Revision ID: 0010_document_corrections
Revises: 0009_notify
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010_document_corrections'
down_revision = '0009_notify'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('vet_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocr_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('ocr_fields', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('corrected_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('corrected_by', sa.Integer(), nullable=True))


def downgrade() -> None:
    # the corrected text and fields stay (they are what the clinic uses); the OCR's original goes
    with op.batch_alter_table('vet_documents', schema=None) as batch_op:
        batch_op.drop_column('corrected_by')
        batch_op.drop_column('corrected_at')
        batch_op.drop_column('ocr_fields')
        batch_op.drop_column('ocr_text')
