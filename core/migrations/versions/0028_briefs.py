"""研判简报: the briefs published from the dashboard

``briefs``: one row per published brief (period, region, format, the file's key in the ``briefs`` store and the
figures it states). See ``core/models/briefs.py`` and ``workflows/briefs/``.

Revision ID: 0028_briefs
Revises: 0027_assessment_schemes
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import minqing.core.models.base


revision = '0028_briefs'
down_revision = '0027_assessment_schemes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('briefs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_key', sa.String(length=8), nullable=False),
    sa.Column('region_code', sa.String(length=15), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('storage_key', sa.String(length=80), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('figures', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
              nullable=False),
    sa.Column('published_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('published_by_account_id', sa.Integer(), nullable=True),
    sa.Column('published_by_name', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['published_by_account_id'], ['accounts.id'],
                            name=op.f('fk_briefs_published_by_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_briefs'))
    )
    with op.batch_alter_table('briefs', schema=None) as batch_op:
        batch_op.create_index('ix_briefs_region_period', ['region_code', 'period_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('briefs', schema=None) as batch_op:
        batch_op.drop_index('ix_briefs_region_period')
    op.drop_table('briefs')
