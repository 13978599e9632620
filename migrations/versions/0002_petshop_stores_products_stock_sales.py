"""petshop stores products stock sales

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('petshop_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petshop_categories')),
    sa.UniqueConstraint('key', name=op.f('uq_petshop_categories_key'))
    )
    op.create_table('petshop_stores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petshop_stores')),
    sa.UniqueConstraint('name', name=op.f('uq_petshop_stores_name'))
    )
    op.create_table('petshop_suppliers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petshop_suppliers')),
    sa.UniqueConstraint('key', name=op.f('uq_petshop_suppliers_key'))
    )
    op.create_table('petshop_products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['petshop_categories.id'], name=op.f('fk_petshop_products_category_id_petshop_categories')),
    sa.ForeignKeyConstraint(['supplier_id'], ['petshop_suppliers.id'], name=op.f('fk_petshop_products_supplier_id_petshop_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petshop_products')),
    sa.UniqueConstraint('sku', name=op.f('uq_petshop_products_sku'))
    )
    with op.batch_alter_table('petshop_products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petshop_products_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_petshop_products_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('petshop_sales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('sold_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_petshop_sales_quantity_positive')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_petshop_sales_unit_price_not_negative')),
    sa.ForeignKeyConstraint(['product_id'], ['petshop_products.id'], name=op.f('fk_petshop_sales_product_id_petshop_products')),
    sa.ForeignKeyConstraint(['store_id'], ['petshop_stores.id'], name=op.f('fk_petshop_sales_store_id_petshop_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petshop_sales'))
    )
    with op.batch_alter_table('petshop_sales', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petshop_sales_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_petshop_sales_store_id_sold_at', ['store_id', 'sold_at'], unique=False)

    op.create_table('petshop_stock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('min_stock', sa.Integer(), nullable=False),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('min_stock >= 0', name=op.f('ck_petshop_stock_min_stock_not_negative')),
    sa.CheckConstraint('price > 0', name=op.f('ck_petshop_stock_price_positive')),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_petshop_stock_quantity_not_negative')),
    sa.ForeignKeyConstraint(['product_id'], ['petshop_products.id'], name=op.f('fk_petshop_stock_product_id_petshop_products')),
    sa.ForeignKeyConstraint(['store_id'], ['petshop_stores.id'], name=op.f('fk_petshop_stock_store_id_petshop_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petshop_stock')),
    sa.UniqueConstraint('store_id', 'product_id', name='uq_petshop_stock_store_product')
    )
    with op.batch_alter_table('petshop_stock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petshop_stock_product_id'), ['product_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('petshop_stock', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petshop_stock_product_id'))

    op.drop_table('petshop_stock')
    with op.batch_alter_table('petshop_sales', schema=None) as batch_op:
        batch_op.drop_index('ix_petshop_sales_store_id_sold_at')
        batch_op.drop_index(batch_op.f('ix_petshop_sales_product_id'))

    op.drop_table('petshop_sales')
    with op.batch_alter_table('petshop_products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petshop_products_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_petshop_products_category_id'))

    op.drop_table('petshop_products')
    op.drop_table('petshop_suppliers')
    op.drop_table('petshop_stores')
    op.drop_table('petshop_categories')
