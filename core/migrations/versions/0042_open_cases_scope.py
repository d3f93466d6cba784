"""the dashboard's open cases in a viewer's scope from an index alone (issue #20)

The dashboard counts the open cases and the overdue ones among them (`web.manage.figures.open_counts`). For the
administrator ``ix_cases_open`` (status, state_deadline_at; partial: the open cases, 9,159 of a city's year of
1,003,334) answers it alone; any other viewer's scope (`core.scope`: region, grid, department, their own reports)
needs a column the index does not carry, so PostgreSQL fetched every open case from the table: 58 ms warm and
0.3 s cold for the city's leader. On PostgreSQL the index now carries the scope's columns (INCLUDE), so the count
is an index-only scan for every viewer. SQLite has no INCLUDE: its index is unchanged.

Revision ID: 0042_open_cases_scope
Revises: 0041_hotspot_indexes
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op


revision = '0042_open_cases_scope'
down_revision = '0041_hotspot_indexes'
branch_labels = None
depends_on = None

OPEN = "status NOT IN ('closed', 'voided')"
# as core.models.cases.OPEN_INCLUDE (a migration keeps its own copy: the model may change later)
INCLUDED = ["region_code", "grid_id", "department_id", "reporter_account_id"]


def _open_index(included) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_cases_open", table_name="cases")
        op.create_index("ix_cases_open", "cases", ["status", "state_deadline_at"], unique=False,
                        postgresql_where=sa.text(OPEN), postgresql_include=list(included))


def upgrade() -> None:
    _open_index(INCLUDED)


def downgrade() -> None:
    _open_index(())
