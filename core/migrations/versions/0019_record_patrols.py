"""patrols of theme records: how far from the record a patrol was made, and whether that was flagged

Revision ID: 0019_record_patrols
Revises: 0018_record_history
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_record_patrols'
down_revision = '0018_record_history'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('distance_m', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('distance_flagged', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('distance_flagged')
        batch_op.drop_column('distance_m')
