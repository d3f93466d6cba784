"""appeals and published rankings

``case_appeals``: a department's appeal that a case leave its indicators for the case's month (申诉);
``ranking_publications``: a period's published ranking, frozen as JSON. See ``core/models/appeals.py``.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import minqing.core.models.base


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('period_key', sa.String(length=7), nullable=False),
    sa.Column('ground', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=True),
    sa.Column('filed_by_account_id', sa.Integer(), nullable=True),
    sa.Column('filed_by_name', sa.String(length=64), nullable=False),
    sa.Column('filed_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('decided_by_account_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_name', sa.String(length=64), nullable=False),
    sa.Column('decided_at', minqing.core.models.base.UTCDateTime(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_appeals_case_id_cases')),
    sa.ForeignKeyConstraint(['decided_by_account_id'], ['accounts.id'], name=op.f('fk_case_appeals_decided_by_account_id_accounts')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_case_appeals_department_id_departments')),
    sa.ForeignKeyConstraint(['filed_by_account_id'], ['accounts.id'], name=op.f('fk_case_appeals_filed_by_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_appeals')),
    sa.UniqueConstraint('case_id', 'period_key', 'active', name=op.f('uq_case_appeals_case_id'))
    )
    with op.batch_alter_table('case_appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_appeals_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_appeals_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_case_appeals_period_status', ['period_key', 'status'], unique=False)

    op.create_table('ranking_publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_key', sa.String(length=7), nullable=False),
    sa.Column('dimension', sa.String(length=20), nullable=False),
    sa.Column('starts_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('ends_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('published_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('published_by_account_id', sa.Integer(), nullable=True),
    sa.Column('published_by_name', sa.String(length=64), nullable=False),
    sa.Column('snapshot', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['published_by_account_id'], ['accounts.id'], name=op.f('fk_ranking_publications_published_by_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ranking_publications')),
    sa.UniqueConstraint('period_key', 'dimension', name=op.f('uq_ranking_publications_period_key'))
    )


def downgrade() -> None:
    op.drop_table('ranking_publications')
    with op.batch_alter_table('case_appeals', schema=None) as batch_op:
        batch_op.drop_index('ix_case_appeals_period_status')
        batch_op.drop_index(batch_op.f('ix_case_appeals_department_id'))
        batch_op.drop_index(batch_op.f('ix_case_appeals_case_id'))
    op.drop_table('case_appeals')
