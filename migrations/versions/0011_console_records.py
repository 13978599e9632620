"""reserved for the console (issue 9): lab value corrections and owner reports

Revision ID: 0011_console_records
Revises: 0010_document_corrections
Create Date: 2026-12-02
"""

from __future__ import annotations

revision = '0011_console_records'
down_revision = '0010_document_corrections'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
