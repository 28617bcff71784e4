"""User session version: logout, password change and deactivation end every session

Revision ID: 9e83f3cfd1d6
Revises: a2791d3e54d5
Create Date: 2026-12-01 16:31:17.731864

"""
from alembic import op
import sqlalchemy as sa


revision = '9e83f3cfd1d6'
down_revision = 'a2791d3e54d5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
