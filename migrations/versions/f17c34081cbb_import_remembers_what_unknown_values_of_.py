"""import remembers what unknown values of choice columns become

Revision ID: f17c34081cbb
Revises: b7dac7df6a0b
Create Date: 2026-12-01 20:12:34.260723

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f17c34081cbb'
down_revision = 'b7dac7df6a0b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unknown_values', sa.JSON(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('value_map', sa.JSON(), server_default='{}', nullable=False))

    with op.batch_alter_table('import_mapping', schema=None) as batch_op:
        batch_op.add_column(sa.Column('value_map', sa.JSON(), server_default='{}', nullable=False))


def downgrade():
    with op.batch_alter_table('import_mapping', schema=None) as batch_op:
        batch_op.drop_column('value_map')

    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.drop_column('value_map')
        batch_op.drop_column('unknown_values')
