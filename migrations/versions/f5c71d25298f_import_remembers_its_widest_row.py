"""import remembers its widest row

Revision ID: f5c71d25298f
Revises: 031bd5d7cc8e
Create Date: 2026-12-01 16:31:59.371387

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f5c71d25298f'
down_revision = '031bd5d7cc8e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('width', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.drop_column('width')
