"""reserved for the fault work (issue 11)

Revision ID: 0013_reliability
Revises: 0012_page_tasks
Create Date: 2026-12-02
"""

from __future__ import annotations

revision = '0013_reliability'
down_revision = '0012_page_tasks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
