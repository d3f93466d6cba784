"""assessment schemes (考核方案): every saved version of the city's scheme and of counties' own

Revision ID: 0027_assessment_schemes
Revises: 0026_case_channels
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
import minqing.core.models.base


revision = '0027_assessment_schemes'
down_revision = '0026_case_channels'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assessment_schemes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=15), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('saved_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('saved_by_account_id', sa.Integer(), nullable=True),
    sa.Column('saved_by_name', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['saved_by_account_id'], ['accounts.id'],
                            name=op.f('fk_assessment_schemes_saved_by_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_schemes')),
    sa.UniqueConstraint('scope', 'version', name='uq_assessment_schemes_scope_version')
    )
    with op.batch_alter_table('assessment_schemes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_schemes_scope'), ['scope'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assessment_schemes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_schemes_scope'))
    op.drop_table('assessment_schemes')
