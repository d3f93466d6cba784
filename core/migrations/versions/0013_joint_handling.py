"""joint handling: co-handler tasks, transfers, fallback departments

``co_handling_tasks``: one row per co-handling (协办) department of a case, with its deadline, its feedback or
the dispatcher's overruling. ``region_fallbacks``: each region's fallback (兜底) department. Transfers (转办) are
lines of the case timeline and need no table. See ``core/models/cohandling.py`` and docs/joint-handling.md.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import minqing.core.models.base


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('co_handling_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=False),
    sa.Column('requested_by_account_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_name', sa.String(length=60), nullable=False),
    sa.Column('requested_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('deadline_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('feedback', sa.Text(), nullable=False),
    sa.Column('photos', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
              nullable=False),
    sa.Column('answered_by_account_id', sa.Integer(), nullable=True),
    sa.Column('answered_by_name', sa.String(length=60), nullable=False),
    sa.Column('answered_at', minqing.core.models.base.UTCDateTime(), nullable=True),
    sa.Column('decided_by_account_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_name', sa.String(length=60), nullable=False),
    sa.Column('decided_at', minqing.core.models.base.UTCDateTime(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_account_id'], ['accounts.id'],
                            name=op.f('fk_co_handling_tasks_answered_by_account_id_accounts')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_co_handling_tasks_case_id_cases')),
    sa.ForeignKeyConstraint(['decided_by_account_id'], ['accounts.id'],
                            name=op.f('fk_co_handling_tasks_decided_by_account_id_accounts')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                            name=op.f('fk_co_handling_tasks_department_id_departments')),
    sa.ForeignKeyConstraint(['requested_by_account_id'], ['accounts.id'],
                            name=op.f('fk_co_handling_tasks_requested_by_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_co_handling_tasks'))
    )
    with op.batch_alter_table('co_handling_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_co_handling_tasks_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_co_handling_tasks_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_co_handling_tasks_status_deadline', ['status', 'deadline_at'], unique=False)

    op.create_table('region_fallbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=15), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('set_by_name', sa.String(length=60), nullable=False),
    sa.Column('set_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                            name=op.f('fk_region_fallbacks_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_region_fallbacks')),
    sa.UniqueConstraint('region_code', name=op.f('uq_region_fallbacks_region_code'))
    )


def downgrade() -> None:
    op.drop_table('region_fallbacks')
    with op.batch_alter_table('co_handling_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_co_handling_tasks_status_deadline')
        batch_op.drop_index(batch_op.f('ix_co_handling_tasks_department_id'))
        batch_op.drop_index(batch_op.f('ix_co_handling_tasks_case_id'))
    op.drop_table('co_handling_tasks')
