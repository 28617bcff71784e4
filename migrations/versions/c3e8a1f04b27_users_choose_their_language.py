"""users choose their language: user.locale (empty follows the browser)

Revision ID: c3e8a1f04b27
Revises: b7c1e5a0d2f4
Create Date: 2026-12-01 20:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c3e8a1f04b27'
down_revision = 'b7c1e5a0d2f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('locale')
