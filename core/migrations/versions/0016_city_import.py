"""a city loads its own regions, grids and staff: grid outline history, roster accounts without a password, cadres

``grid_outline_history``: a grid's former outline with the period it was in force, kept when an import redraws the
grid (``grids.outline_since`` says when the current outline took effect). ``accounts.password_must_change``: an
account made from an imported roster has no password until its owner sets one. ``role_grants.role`` also allows
``cadre`` (village and township cadres, scoped to their village or township).

Revision ID: 0016_city_import
Revises: 0015_signin_throttles
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import minqing.core.models.base


revision = '0016_city_import'
down_revision = '0015_signin_throttles'
branch_labels = None
depends_on = None

ROLES = "'admin','operator','department_staff','grid_worker','citizen','leader','auditor'"


def upgrade() -> None:
    op.create_table('grid_outline_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('geometry', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('valid_from', minqing.core.models.base.UTCDateTime(), nullable=True),
    sa.Column('valid_to', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_grid_outline_history_grid_id_grids'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_outline_history'))
    )
    with op.batch_alter_table('grid_outline_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_outline_history_grid_id'), ['grid_id'], unique=False)
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outline_since', minqing.core.models.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_must_change', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_role_grants_role'), type_='check')
        batch_op.create_check_constraint('role', f"role in ({ROLES},'cadre')")


def downgrade() -> None:
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_role_grants_role'), type_='check')
        batch_op.create_check_constraint('role', f"role in ({ROLES})")
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('password_must_change')
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.drop_column('outline_since')
    with op.batch_alter_table('grid_outline_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_outline_history_grid_id'))
    op.drop_table('grid_outline_history')
