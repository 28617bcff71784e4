"""lead list sorts by source: (source, id) over the live leads

Revision ID: b7c1e5a0d2f4
Revises: fa41291123ca
Create Date: 2026-12-01 20:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7c1e5a0d2f4'
down_revision = 'fa41291123ca'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.create_index('ix_lead_live_source', ['source', 'id'], unique=False,
                              postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))


def downgrade():
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_live_source', postgresql_where=sa.text('deleted_at IS NULL'),
                            sqlite_where=sa.text('deleted_at IS NULL'))
