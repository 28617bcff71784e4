"""Lead score: scoring rules, the score on each lead, when an activity was done

Revision ID: b7dac7df6a0b
Revises: 05ad0e7a38a4
Create Date: 2026-12-01 20:06:08.399757

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7dac7df6a0b'
down_revision = '05ad0e7a38a4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scoring_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_rule'))
    )
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('done_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_lead_live_score', ['score', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))



def downgrade():
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_live_score', postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_column('score')

    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_column('done_at')

    op.drop_table('scoring_rule')
