"""leads keep a deal's currency and expected close date

Revision ID: c3d8f1a2b9e6
Revises: f17c34081cbb
Create Date: 2026-12-01 20:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c3d8f1a2b9e6'
down_revision = 'f17c34081cbb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('currency', sa.String(length=3), server_default='EUR', nullable=False))
        batch_op.add_column(sa.Column('expected_close', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_column('expected_close')
        batch_op.drop_column('currency')
