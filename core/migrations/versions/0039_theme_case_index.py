"""the map's theme layers at a city's volume (issue #20): an index of each theme's cases, newest first

A theme's layer (`themes.layer_page` → `core.geo.features.case_rows`) counts the theme's cases in the viewer's
scope and box (`numberMatched`, exact) and reads the newest page of them (10,000 by default). Through
``ix_cases_theme_key`` PostgreSQL read every case of the theme from the table for each: 12,800 table pages for a
theme of 14,800 cases, twice, 0.2–0.3 s each at a city's year (1,003,334 cases).

``ix_cases_theme_newest`` (theme_key, id) carries on PostgreSQL (INCLUDE) the columns the scope
(`core.scope`: reporter, region, grid, department), the box (lon, lat) and the point (title, status, urgency,
created_at, state_deadline_at) need: the count and the page are index-only scans (200–600 index pages for a
theme of 15,000–29,000 cases, 5–60 ms), the page in id order without a sort. It takes 168 MB at that volume (the
table 389 MB). SQLite has no INCLUDE: there it is (theme_key, id) alone.
``ix_cases_theme_key`` stays, the small index every other lookup by theme uses.

Revision ID: 0039_theme_case_index
Revises: 0038_visit_household_place
Create Date: 2026-12-07
"""
from alembic import op


revision = '0039_theme_case_index'
down_revision = '0038_visit_household_place'
branch_labels = None
depends_on = None

# as core.models.cases.THEME_LAYER_COLUMNS (a migration keeps its own copy: the model may change later)
INCLUDED = ["lon", "lat", "reporter_account_id", "region_code", "grid_id", "department_id", "title", "status",
            "urgency", "created_at", "state_deadline_at"]


def upgrade() -> None:
    op.create_index('ix_cases_theme_newest', 'cases', ['theme_key', 'id'], unique=False,
                    postgresql_include=INCLUDED)


def downgrade() -> None:
    op.drop_index('ix_cases_theme_newest', table_name='cases')
