"""key grids held by party secretaries (重点网格, 包抓), and the 帮办实事 ledger

``key_grids``: a small red or yellow grid assigned to a party secretary, with the grid's colour at assignment;
``practical_matters``: a practical matter promised to a household, its owner, deadline, status and result.
See ``core/models/keygrids.py``.

Revision ID: 0022_key_grids
Revises: 0021_cadres
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import minqing.core.models.base


revision = '0022_key_grids'
down_revision = '0021_cadres'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('key_grids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=15), nullable=False),
    sa.Column('holder_account_id', sa.Integer(), nullable=False),
    sa.Column('colour_at_assignment', sa.String(length=6), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=True),
    sa.Column('assigned_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('assigned_by_account_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('removed_at', minqing.core.models.base.UTCDateTime(), nullable=True),
    sa.Column('removed_by_account_id', sa.Integer(), nullable=True),
    sa.Column('removal_reason', sa.Text(), nullable=False),
    sa.CheckConstraint("colour_at_assignment in ('red','yellow','blue')", name=op.f('ck_key_grids_colour')),
    sa.ForeignKeyConstraint(['assigned_by_account_id'], ['accounts.id'], name=op.f('fk_key_grids_assigned_by_account_id_accounts')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_key_grids_grid_id_grids')),
    sa.ForeignKeyConstraint(['holder_account_id'], ['accounts.id'], name=op.f('fk_key_grids_holder_account_id_accounts')),
    sa.ForeignKeyConstraint(['removed_by_account_id'], ['accounts.id'], name=op.f('fk_key_grids_removed_by_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_grids')),
    sa.UniqueConstraint('grid_id', 'active', name=op.f('uq_key_grids_grid_id'))
    )
    op.create_index(op.f('ix_key_grids_grid_id'), 'key_grids', ['grid_id'], unique=False)
    op.create_index(op.f('ix_key_grids_holder_account_id'), 'key_grids', ['holder_account_id'], unique=False)
    op.create_index(op.f('ix_key_grids_region_code'), 'key_grids', ['region_code'], unique=False)
    op.create_table('practical_matters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=15), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('owner_account_id', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('created_by_account_id', sa.Integer(), nullable=True),
    sa.Column('created_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('started_at', minqing.core.models.base.UTCDateTime(), nullable=True),
    sa.Column('finished_at', minqing.core.models.base.UTCDateTime(), nullable=True),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("status in ('promised','in_progress','done','cannot')", name=op.f('ck_practical_matters_status')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_practical_matters_case_id_cases')),
    sa.ForeignKeyConstraint(['created_by_account_id'], ['accounts.id'], name=op.f('fk_practical_matters_created_by_account_id_accounts')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_practical_matters_grid_id_grids')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_practical_matters_household_id_households')),
    sa.ForeignKeyConstraint(['owner_account_id'], ['accounts.id'], name=op.f('fk_practical_matters_owner_account_id_accounts')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_practical_matters_resident_id_residents')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_practical_matters_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practical_matters')),
    sa.UniqueConstraint('client_id', name=op.f('uq_practical_matters_client_id'))
    )
    op.create_index(op.f('ix_practical_matters_case_id'), 'practical_matters', ['case_id'], unique=False)
    op.create_index(op.f('ix_practical_matters_deadline'), 'practical_matters', ['deadline'], unique=False)
    op.create_index(op.f('ix_practical_matters_grid_id'), 'practical_matters', ['grid_id'], unique=False)
    op.create_index(op.f('ix_practical_matters_household_id'), 'practical_matters', ['household_id'], unique=False)
    op.create_index('ix_practical_matters_owner_status', 'practical_matters', ['owner_account_id', 'status'], unique=False)
    op.create_index(op.f('ix_practical_matters_region_code'), 'practical_matters', ['region_code'], unique=False)
    op.create_index(op.f('ix_practical_matters_resident_id'), 'practical_matters', ['resident_id'], unique=False)
    op.create_index(op.f('ix_practical_matters_visit_id'), 'practical_matters', ['visit_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_practical_matters_visit_id'), table_name='practical_matters')
    op.drop_index(op.f('ix_practical_matters_resident_id'), table_name='practical_matters')
    op.drop_index(op.f('ix_practical_matters_region_code'), table_name='practical_matters')
    op.drop_index('ix_practical_matters_owner_status', table_name='practical_matters')
    op.drop_index(op.f('ix_practical_matters_household_id'), table_name='practical_matters')
    op.drop_index(op.f('ix_practical_matters_grid_id'), table_name='practical_matters')
    op.drop_index(op.f('ix_practical_matters_deadline'), table_name='practical_matters')
    op.drop_index(op.f('ix_practical_matters_case_id'), table_name='practical_matters')
    op.drop_table('practical_matters')
    op.drop_index(op.f('ix_key_grids_region_code'), table_name='key_grids')
    op.drop_index(op.f('ix_key_grids_holder_account_id'), table_name='key_grids')
    op.drop_index(op.f('ix_key_grids_grid_id'), table_name='key_grids')
    op.drop_table('key_grids')
