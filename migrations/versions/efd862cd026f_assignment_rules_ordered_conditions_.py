"""Assignment rules: ordered conditions routing new leads to an owner

Revision ID: efd862cd026f
Revises: c3d8f1a2b9e6
Create Date: 2026-12-01 20:54:57.134340

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'efd862cd026f'
down_revision = 'c3d8f1a2b9e6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assignment_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('owner_choice', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment_rule'))
    )


def downgrade():
    op.drop_table('assignment_rule')
