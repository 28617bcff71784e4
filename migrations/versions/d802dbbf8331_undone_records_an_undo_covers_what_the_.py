"""Undone records: an Undo covers what the user may change, the batch stays undoable for the rest

Revision ID: d802dbbf8331
Revises: 9e83f3cfd1d6
Create Date: 2026-12-01 16:47:09.362923

"""
from alembic import op
import sqlalchemy as sa


revision = 'd802dbbf8331'
down_revision = '9e83f3cfd1d6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('undone_record',
    sa.Column('batch_id', sa.String(length=36), nullable=False),
    sa.Column('record_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_undone_record_batch_id_batch')),
    sa.PrimaryKeyConstraint('batch_id', 'record_id', name=op.f('pk_undone_record'))
    )


def downgrade():
    op.drop_table('undone_record')
