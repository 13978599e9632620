"""reserved for the scale-out work (issue 11): a long scan's pages as separate tasks

Revision ID: 0012_page_tasks
Revises: 0011_console_records
Create Date: 2026-12-02
"""

from __future__ import annotations

revision = '0012_page_tasks'
down_revision = '0011_console_records'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
