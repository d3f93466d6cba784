"""the dashboard at a city's volume (issue #20): figures stored with a rule's warnings

``stored_warning_figures``: counts a rule's last city-wide evaluation keeps beside its stored warnings, replaced
with them by the refresh (``core/warning_store.py``) and read within the viewer's scope by region code and grid,
as the warnings are. 同类事件激增 keeps there its recent and baseline cases per grid, region code and category:
its dashboard panel adds them up for the viewer instead of two GROUP BYs over 37 days of cases on every load.

**Covering indexes** (PostgreSQL; SQLite keeps its plain ones): ``ix_cases_created_at`` carries the columns the
dashboard's period figures read (the evaluation's GROUP BY, cases per theme, the daily trend, within a viewer's
scope by region or own reports), ``ix_cases_closed_at`` the scope's columns: a month of cases is read from the
index alone instead of a heap page per case (a city's cases are not stored in the order they were reported).

Every rule's last run is forgotten (``warning_rule_runs`` emptied), so the first reader after the upgrade
evaluates the rules again and stores their figures with their warnings.

Revision ID: 0037_dashboard_figures
Revises: 0036_warning_department
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import minqing.core.models.base


revision = '0037_dashboard_figures'
down_revision = '0036_warning_department'
branch_labels = None
depends_on = None

# as in core/models/cases.py
INDEXES = [("ix_cases_created_at", "created_at",
            ("id", "status", "region_code", "theme_key", "department_id", "channel", "grid_id", "merged_into_id",
             "closed_at", "due_at", "rework_count", "reporter_account_id")),
           ("ix_cases_closed_at", "closed_at", ("region_code", "reporter_account_id"))]


def upgrade() -> None:
    op.create_table('stored_warning_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_key', sa.String(length=60), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=15), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
              nullable=False),
    sa.Column('evaluated_at', minqing.core.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_warning_figures'))
    )
    with op.batch_alter_table('stored_warning_figures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_warning_figures_rule_key'), ['rule_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_warning_figures_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_warning_figures_region_code'), ['region_code'], unique=False)
    op.execute("DELETE FROM warning_rule_runs")
    if op.get_bind().dialect.name == "postgresql":
        for name, column, include in INDEXES:
            op.drop_index(name, table_name="cases")
            op.create_index(name, "cases", [column], unique=False, postgresql_include=list(include))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, column, _ in INDEXES:
            op.drop_index(name, table_name="cases")
            op.create_index(name, "cases", [column], unique=False)
    with op.batch_alter_table('stored_warning_figures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_warning_figures_region_code'))
        batch_op.drop_index(batch_op.f('ix_stored_warning_figures_grid_id'))
        batch_op.drop_index(batch_op.f('ix_stored_warning_figures_rule_key'))
    op.drop_table('stored_warning_figures')
