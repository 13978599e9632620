"""schedules as rows (placeholder: the schedules work fills it in)

Revision ID: 0008_schedules
Revises: 0007_lifecycle
Create Date: 2026-12-02
"""

from __future__ import annotations

revision = '0008_schedules'
down_revision = '0007_lifecycle'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
