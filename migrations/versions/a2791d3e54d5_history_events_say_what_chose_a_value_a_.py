"""history events say what chose a value (a pool's turn)

Revision ID: a2791d3e54d5
Revises: 6a6a53df5e71
Create Date: 2026-12-01 16:49:09.881809

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a2791d3e54d5'
down_revision = '6a6a53df5e71'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('history_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('via', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('history_event', schema=None) as batch_op:
        batch_op.drop_column('via')
