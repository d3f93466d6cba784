"""duplicates: merging cases into a master case

``cases.merged_into_id``: the master a duplicate (重复件) was merged into, while merged. ``case_merges``: one row
per merge, with its evidence, what the duplicate was when merged, and the undo if any.
``attachments.dhash``: a perceptual hash of an image, compared between likely duplicates (NULL for files stored
before; those are compared by sha256).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import minqing.core.models.base


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_merges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('master_id', sa.Integer(), nullable=False),
    sa.Column('duplicate_id', sa.Integer(), nullable=False),
    sa.Column('merged_by_account_id', sa.Integer(), nullable=True),
    sa.Column('merged_by_name', sa.String(length=60), nullable=False),
    sa.Column('merged_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
              nullable=False),
    sa.Column('duplicate_status', sa.String(length=40), nullable=False),
    sa.Column('duplicate_entered_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('duplicate_deadline_at', minqing.core.models.base.UTCDateTime(), nullable=True),
    sa.Column('duplicate_department_id', sa.Integer(), nullable=True),
    sa.Column('undone_by_account_id', sa.Integer(), nullable=True),
    sa.Column('undone_by_name', sa.String(length=60), nullable=False),
    sa.Column('undone_at', minqing.core.models.base.UTCDateTime(), nullable=True),
    sa.Column('undo_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['duplicate_department_id'], ['departments.id'],
                            name=op.f('fk_case_merges_duplicate_department_id_departments')),
    sa.ForeignKeyConstraint(['duplicate_id'], ['cases.id'], name=op.f('fk_case_merges_duplicate_id_cases')),
    sa.ForeignKeyConstraint(['master_id'], ['cases.id'], name=op.f('fk_case_merges_master_id_cases')),
    sa.ForeignKeyConstraint(['merged_by_account_id'], ['accounts.id'],
                            name=op.f('fk_case_merges_merged_by_account_id_accounts')),
    sa.ForeignKeyConstraint(['undone_by_account_id'], ['accounts.id'],
                            name=op.f('fk_case_merges_undone_by_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_merges'))
    )
    with op.batch_alter_table('case_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_merges_duplicate_id'), ['duplicate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_merges_master_id'), ['master_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cases_merged_into_id_cases'), 'cases', ['merged_into_id'], ['id'])

    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dhash', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('dhash')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_merged_into_id_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cases_merged_into_id'))
        batch_op.drop_column('merged_into_id')

    with op.batch_alter_table('case_merges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_merges_master_id'))
        batch_op.drop_index(batch_op.f('ix_case_merges_duplicate_id'))
    op.drop_table('case_merges')
