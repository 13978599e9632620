"""notification preferences, endpoints and deliveries (placeholder: the notifications work fills it in)

Revision ID: 0009_notify
Revises: 0008_schedules
Create Date: 2026-12-02
"""

from __future__ import annotations

revision = '0009_notify'
down_revision = '0008_schedules'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
