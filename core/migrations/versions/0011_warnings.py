"""early warnings: what operators did with a warning

``warning_actions``: one row per handled warning (acknowledged, or turned into a case), by rule key and the
warning's stable key. See ``core/models/warnings.py`` and ``core/warning_rules.py``. The rules' settings live
in the existing ``settings`` table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import minqing.core.models.base


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('warning_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_key', sa.String(length=60), nullable=False),
    sa.Column('warning_key', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=15), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_warning_actions_account_id_accounts')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_warning_actions_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_actions')),
    sa.UniqueConstraint('rule_key', 'warning_key', name=op.f('uq_warning_actions_rule_key'))
    )
    with op.batch_alter_table('warning_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warning_actions_region_code'), ['region_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('warning_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warning_actions_region_code'))
    op.drop_table('warning_actions')
