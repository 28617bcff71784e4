"""pool rotation: who is next in line survives member changes

Revision ID: 6a6a53df5e71
Revises: f5c71d25298f
Create Date: 2026-12-01 16:44:55.741911

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6a6a53df5e71'
down_revision = 'f5c71d25298f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pool', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rotation_turn', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('rotation', sa.JSON(), server_default='[]', nullable=False))


def downgrade():
    with op.batch_alter_table('pool', schema=None) as batch_op:
        batch_op.drop_column('rotation')
        batch_op.drop_column('rotation_turn')
