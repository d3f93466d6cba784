"""stored early warnings: each rule's current warnings, evaluated city-wide by the refresh (issue #20)

- ``stored_warnings``: one row per (rule key, warning key) of the rule's last evaluation, with the fields of an
  ``EarlyWarning`` and when it was first and last found; the dashboard and the map read these within the viewer's
  scope instead of evaluating every rule on every page.
- ``warning_rule_runs``: per rule, when it was last tried and last succeeded, how long it took, how many warnings
  it found and the error of a failed run.

Nothing to backfill: both tables start empty, and the first reader of a rule never evaluated evaluates it on
demand (``core/warning_rules.py``), so an upgraded city shows the same warnings as before at once.

Revision ID: 0033_stored_warnings
Revises: 0032_case_scope_indexes
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import minqing.core.models.base


revision = '0033_stored_warnings'
down_revision = '0032_case_scope_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stored_warnings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_key', sa.String(length=60), nullable=False),
    sa.Column('warning_key', sa.String(length=200), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('severity_rank', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=15), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('objects', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
              nullable=False),
    sa.Column('theme_key', sa.String(length=80), nullable=False),
    sa.Column('category', sa.String(length=80), nullable=False),
    sa.Column('subcategory', sa.String(length=80), nullable=False),
    sa.Column('first_seen_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('evaluated_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_warnings')),
    sa.UniqueConstraint('rule_key', 'warning_key', name=op.f('uq_stored_warnings_rule_key'))
    )
    with op.batch_alter_table('stored_warnings', schema=None) as batch_op:
        batch_op.create_index('ix_stored_warnings_rule_severity', ['rule_key', 'severity_rank', 'first_seen_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_stored_warnings_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_warnings_region_code'), ['region_code'], unique=False)
    op.create_table('warning_rule_runs',
    sa.Column('rule_key', sa.String(length=60), nullable=False),
    sa.Column('attempted_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.Column('evaluated_at', minqing.core.models.base.UTCDateTime(), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('warnings', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('rule_key', name=op.f('pk_warning_rule_runs'))
    )


def downgrade() -> None:
    op.drop_table('warning_rule_runs')
    with op.batch_alter_table('stored_warnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_warnings_region_code'))
        batch_op.drop_index(batch_op.f('ix_stored_warnings_grid_id'))
        batch_op.drop_index('ix_stored_warnings_rule_severity')
    op.drop_table('stored_warnings')
