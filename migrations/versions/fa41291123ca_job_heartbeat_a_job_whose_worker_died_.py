"""Job heartbeat: a job whose worker died is found and marked failed

Revision ID: fa41291123ca
Revises: 9ac8c0285ab2
Create Date: 2026-12-01 17:35:07.414162

"""
from alembic import op
import sqlalchemy as sa


revision = 'fa41291123ca'
down_revision = '9ac8c0285ab2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')

