"""veterinaria: lab values keep the OCR's reading beside a vet's correction; finished medical reports by pet

`vet_medical_reports` lists each finished report under its pet, so the pet's owner (who did not
ask for it) can list and open it. Reports finished before this revision are copied from their jobs.

Revision ID: 0011_console_records
Revises: 0010_document_corrections
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = '0011_console_records'
down_revision = '0010_document_corrections'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('vet_lab_values', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocr_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('ocr_value', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('ocr_raw_value', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('ocr_unit', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('corrected_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('corrected_by', sa.Integer(), nullable=True))
    reports = op.create_table(
        'vet_medical_reports',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('pet_id', sa.Integer(), nullable=False),
        sa.Column('pdf_key', sa.String(length=300), nullable=False),
        sa.Column('pages', sa.Integer(), nullable=False),
        sa.Column('requested_by', sa.String(length=150), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['pet_id'], ['vet_pets.id'], name=op.f('fk_vet_medical_reports_pet_id_vet_pets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_vet_medical_reports')),
    )
    op.create_index('ix_vet_medical_reports_pet_id_created_at', 'vet_medical_reports', ['pet_id', 'created_at'])
    _copy_finished_reports(reports)


def _copy_finished_reports(reports: sa.Table) -> None:
    # the jobs table's JSON columns come back as text on some drivers: read them either way
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, owner_username, result, updated_at FROM jobs "
        "WHERE service = 'veterinaria' AND kind = 'medical_report' AND status = 'completed'"
    )).all()
    pets = {row[0] for row in bind.execute(sa.text("SELECT id FROM vet_pets"))}
    copied = []
    for job_id, username, result, finished in rows:
        result = json.loads(result) if isinstance(result, str) else (result or {})
        finished = datetime.fromisoformat(finished) if isinstance(finished, str) else finished
        if result.get("pdf_key") and result.get("mascota_id") in pets:
            copied.append({"id": job_id, "pet_id": result["mascota_id"], "pdf_key": result["pdf_key"],
                           "pages": int(result.get("pages") or 0), "requested_by": username or "",
                           "created_at": finished})
    if copied:
        op.bulk_insert(reports, copied)


def downgrade() -> None:
    # the corrected values stay (they are what the clinic uses); the OCR's originals and the report list go
    op.drop_index('ix_vet_medical_reports_pet_id_created_at', table_name='vet_medical_reports')
    op.drop_table('vet_medical_reports')
    with op.batch_alter_table('vet_lab_values', schema=None) as batch_op:
        batch_op.drop_column('corrected_by')
        batch_op.drop_column('corrected_at')
        batch_op.drop_column('ocr_unit')
        batch_op.drop_column('ocr_raw_value')
        batch_op.drop_column('ocr_value')
        batch_op.drop_column('ocr_name')
