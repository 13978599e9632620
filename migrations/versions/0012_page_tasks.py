"""a long scan's pages as separate tasks: each page's reading kept until the document is filed, and the
worker that ran each job

`vet_page_reads` holds one row per page of a document being read by page tasks (issue 11): a page
task writes its page's text there, the join reads them in page order and deletes them in the same
transaction that files the document. `jobs.worker` names the Celery worker (nodename) that last
started a job, so an operator (and the cluster test) can see where jobs ran.

Revision ID: 0012_page_tasks
Revises: 0011_console_records
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012_page_tasks'
down_revision = '0011_console_records'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker', sa.String(length=200), nullable=True))
    op.create_table(
        'vet_page_reads',
        sa.Column('job_id', sa.String(length=36), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('rotated', sa.Integer(), nullable=False),
        sa.Column('deskew', sa.Float(), nullable=False),
        sa.Column('worker', sa.String(length=200), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('job_id', 'number', name=op.f('pk_vet_page_reads')),
    )


def downgrade() -> None:
    op.drop_table('vet_page_reads')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('worker')
