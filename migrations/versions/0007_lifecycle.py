"""jobs can be cancelled and retried (placeholder: the lifecycle work fills it in)

Revision ID: 0007_lifecycle
Revises: 0006_ocr
Create Date: 2026-12-02
"""

from __future__ import annotations

revision = '0007_lifecycle'
down_revision = '0006_ocr'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
