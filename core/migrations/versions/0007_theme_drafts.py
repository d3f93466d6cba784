"""theme builder drafts

The theme builder's working copies (``theme_drafts``): one draft per builder-owned theme key, with an
optimistic-lock revision. See ``core/models/builder.py`` and ``docs/builder.md``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import minqing.core.models.base
from sqlalchemy.dialects import postgresql


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('theme_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('theme_key', sa.String(length=80), nullable=False),
    sa.Column('department_key', sa.String(length=40), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
              nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('based_on_version', sa.Integer(), nullable=True),
    sa.Column('started_from', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_by_account_id', sa.Integer(), nullable=True),
    sa.Column('created_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_by_account_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_account_id'], ['accounts.id'],
                            name=op.f('fk_theme_drafts_created_by_account_id_accounts')),
    sa.ForeignKeyConstraint(['updated_by_account_id'], ['accounts.id'],
                            name=op.f('fk_theme_drafts_updated_by_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theme_drafts')),
    sa.UniqueConstraint('theme_key', name=op.f('uq_theme_drafts_theme_key'))
    )
    with op.batch_alter_table('theme_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_theme_drafts_department_key'), ['department_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('theme_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_theme_drafts_department_key'))
    op.drop_table('theme_drafts')
