"""theme records: history of changes, retirement

``theme_record_changes``: one row per create, update and retire of a record (who, when, the record's version,
old and new values of the changed fields). ``theme_records.retired_at``/``retired_by``: a retired record is
kept, hidden from layers and lists by default.

Revision ID: 0018_record_history
Revises: 0017_accounts_content
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
import minqing.core.models.base


revision = '0018_record_history'
down_revision = '0017_accounts_content'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('theme_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', minqing.core.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('retired_by', sa.String(length=64), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_theme_records_retired_at'), ['retired_at'], unique=False)
    op.create_table('theme_record_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('actor_account_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON().with_variant(sa.dialects.postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
              nullable=False),
    sa.ForeignKeyConstraint(['actor_account_id'], ['accounts.id'],
                            name=op.f('fk_theme_record_changes_actor_account_id_accounts')),
    sa.ForeignKeyConstraint(['record_id'], ['theme_records.id'],
                            name=op.f('fk_theme_record_changes_record_id_theme_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theme_record_changes'))
    )
    with op.batch_alter_table('theme_record_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_theme_record_changes_record_id'), ['record_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('theme_record_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_theme_record_changes_record_id'))
    op.drop_table('theme_record_changes')
    with op.batch_alter_table('theme_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_theme_records_retired_at'))
        batch_op.drop_column('retired_by')
        batch_op.drop_column('retired_at')
