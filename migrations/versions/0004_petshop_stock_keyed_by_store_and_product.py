"""petshop stock keyed by (store, product): no surrogate id, its sequence or a second unique index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('petshop_stock', schema=None) as batch_op:
        batch_op.drop_constraint('uq_petshop_stock_store_product', type_='unique')
        batch_op.drop_constraint('pk_petshop_stock', type_='primary')
        batch_op.drop_column('id')
        batch_op.create_primary_key('pk_petshop_stock', ['store_id', 'product_id'])


def downgrade() -> None:
    with op.batch_alter_table('petshop_stock', schema=None) as batch_op:
        batch_op.drop_constraint('pk_petshop_stock', type_='primary')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE petshop_stock ADD COLUMN id SERIAL')  # numbers the existing rows
    else:  # SQLite gives an INTEGER PRIMARY KEY that is NULL on copy the next rowid
        op.add_column('petshop_stock', sa.Column('id', sa.Integer(), nullable=True))
    with op.batch_alter_table('petshop_stock', schema=None) as batch_op:
        batch_op.create_primary_key('pk_petshop_stock', ['id'])
        batch_op.create_unique_constraint('uq_petshop_stock_store_product', ['store_id', 'product_id'])
