"""veterinaria owners pets histories consultations documents search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('vet_owners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vet_owners')),
    sa.UniqueConstraint('user_id', name=op.f('uq_vet_owners_user_id'))
    )
    with op.batch_alter_table('vet_owners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vet_owners_name_key'), ['name_key'], unique=False)

    op.create_table('vet_pets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_key', sa.String(length=100), nullable=False),
    sa.Column('species', sa.String(length=40), nullable=False),
    sa.Column('breed', sa.String(length=100), nullable=False),
    sa.Column('sex', sa.String(length=10), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['vet_owners.id'], name=op.f('fk_vet_pets_owner_id_vet_owners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vet_pets'))
    )
    with op.batch_alter_table('vet_pets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vet_pets_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_vet_pets_owner_id'), ['owner_id'], unique=False)

    op.create_table('vet_consultations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pet_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('diagnosis', sa.Text(), nullable=False),
    sa.Column('treatment', sa.Text(), nullable=False),
    sa.Column('weight_kg', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('vet_id', sa.Integer(), nullable=False),
    sa.Column('vet_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['pet_id'], ['vet_pets.id'], name=op.f('fk_vet_consultations_pet_id_vet_pets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vet_consultations'))
    )
    with op.batch_alter_table('vet_consultations', schema=None) as batch_op:
        batch_op.create_index('ix_vet_consultations_pet_id_date', ['pet_id', 'date'], unique=False)

    op.create_table('vet_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pet_id', sa.Integer(), nullable=True),
    sa.Column('file_key', sa.String(length=300), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=False),
    sa.Column('file_kind', sa.String(length=10), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('document_type', sa.String(length=20), nullable=False),
    sa.Column('document_date', sa.Date(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('page_texts', sa.JSON(), nullable=False),
    sa.Column('extracted_text', sa.Text(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('processing_time', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['pet_id'], ['vet_pets.id'], name=op.f('fk_vet_documents_pet_id_vet_pets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vet_documents')),
    sa.UniqueConstraint('sha256', name=op.f('uq_vet_documents_sha256'))
    )
    with op.batch_alter_table('vet_documents', schema=None) as batch_op:
        batch_op.create_index('ix_vet_documents_pet_id_document_date', ['pet_id', 'document_date'], unique=False)

    op.create_table('vet_histories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pet_id', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['pet_id'], ['vet_pets.id'], name=op.f('fk_vet_histories_pet_id_vet_pets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vet_histories')),
    sa.UniqueConstraint('pet_id', name=op.f('uq_vet_histories_pet_id'))
    )
    op.create_table('vet_search_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('pet_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['pet_id'], ['vet_pets.id'], name=op.f('fk_vet_search_entries_pet_id_vet_pets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vet_search_entries')),
    sa.UniqueConstraint('kind', 'ref_id', name='uq_vet_search_entries_kind_ref')
    )
    with op.batch_alter_table('vet_search_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vet_search_entries_pet_id'), ['pet_id'], unique=False)

    op.create_table('vet_lab_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('pet_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=30), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('measured_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['vet_documents.id'], name=op.f('fk_vet_lab_values_document_id_vet_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pet_id'], ['vet_pets.id'], name=op.f('fk_vet_lab_values_pet_id_vet_pets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vet_lab_values'))
    )
    with op.batch_alter_table('vet_lab_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vet_lab_values_document_id'), ['document_id'], unique=False)
        batch_op.create_index('ix_vet_lab_values_pet_id_name', ['pet_id', 'name'], unique=False)



    _create_full_text_index()


def _create_full_text_index() -> None:
    """SQLite: an FTS5 table kept in step by triggers. PostgreSQL: a GIN index on the Spanish tsvector."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_vet_search_entries_body_fts ON vet_search_entries "
            "USING gin (to_tsvector('spanish', body))"
        )
        return
    op.execute(
        "CREATE VIRTUAL TABLE vet_search_fts USING fts5("
        "body, content='vet_search_entries', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER vet_search_ai AFTER INSERT ON vet_search_entries BEGIN "
        "INSERT INTO vet_search_fts(rowid, body) VALUES (new.id, new.body); END"
    )
    op.execute(
        "CREATE TRIGGER vet_search_ad AFTER DELETE ON vet_search_entries BEGIN "
        "INSERT INTO vet_search_fts(vet_search_fts, rowid, body) VALUES ('delete', old.id, old.body); END"
    )
    op.execute(
        "CREATE TRIGGER vet_search_au AFTER UPDATE ON vet_search_entries BEGIN "
        "INSERT INTO vet_search_fts(vet_search_fts, rowid, body) VALUES ('delete', old.id, old.body); "
        "INSERT INTO vet_search_fts(rowid, body) VALUES (new.id, new.body); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("vet_search_ai", "vet_search_ad", "vet_search_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS vet_search_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_vet_search_entries_body_fts")
    with op.batch_alter_table('vet_lab_values', schema=None) as batch_op:
        batch_op.drop_index('ix_vet_lab_values_pet_id_name')
        batch_op.drop_index(batch_op.f('ix_vet_lab_values_document_id'))

    op.drop_table('vet_lab_values')
    with op.batch_alter_table('vet_search_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vet_search_entries_pet_id'))

    op.drop_table('vet_search_entries')
    op.drop_table('vet_histories')
    with op.batch_alter_table('vet_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_vet_documents_pet_id_document_date')

    op.drop_table('vet_documents')
    with op.batch_alter_table('vet_consultations', schema=None) as batch_op:
        batch_op.drop_index('ix_vet_consultations_pet_id_date')

    op.drop_table('vet_consultations')
    with op.batch_alter_table('vet_pets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vet_pets_owner_id'))
        batch_op.drop_index(batch_op.f('ix_vet_pets_name_key'))

    op.drop_table('vet_pets')
    with op.batch_alter_table('vet_owners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vet_owners_name_key'))

    op.drop_table('vet_owners')
