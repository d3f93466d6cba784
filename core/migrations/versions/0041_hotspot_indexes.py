"""the map's hotspot layer at a city's volume (issue #20): the window's points read from an index

The hotspots (`workflows.briefs.hotspots.located_cases`) read a window of 30 days of located cases, without merged
duplicates and void cases, in the viewer's scope: at a city's year (1,003,334 cases, 80,000 in the window) a
sequential scan of the table and a hash join with every case's milestones, 0.35 s per window and two windows per
computation.

``ix_cases_created_at`` (0037) carries on PostgreSQL the columns of the period figures and the scope; it now
carries the points' too (category, lon, lat), so a window is an index-only scan. ``ix_case_milestones_voided``
(case_id, partial: the voided ones, 4 % of the cases) answers the query's NOT EXISTS from a 1-MB index instead of
a million milestones. Together 0.35 s → 0.07–0.15 s per window (EXPLAIN ANALYZE on a copy of that city).

Revision ID: 0041_hotspot_indexes
Revises: 0040_cadre_visit_counts
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op


revision = '0041_hotspot_indexes'
down_revision = '0040_cadre_visit_counts'
branch_labels = None
depends_on = None

# as core.models.cases.CREATED_AT_INCLUDE, before and after (a migration keeps its own copy)
BEFORE = ("id", "status", "region_code", "theme_key", "department_id", "channel", "grid_id", "merged_into_id",
          "closed_at", "due_at", "rework_count", "reporter_account_id")
AFTER = (*BEFORE, "category", "lon", "lat")


def _created_at(included) -> None:
    if op.get_bind().dialect.name == "postgresql":   # SQLite has no INCLUDE: its plain index is unchanged
        op.drop_index("ix_cases_created_at", table_name="cases")
        op.create_index("ix_cases_created_at", "cases", ["created_at"], unique=False,
                        postgresql_include=list(included))


def upgrade() -> None:
    _created_at(AFTER)
    op.create_index("ix_case_milestones_voided", "case_milestones", ["case_id"], unique=False,
                    postgresql_where=sa.text("voided"), sqlite_where=sa.text("voided"))


def downgrade() -> None:
    op.drop_index("ix_case_milestones_voided", table_name="case_milestones")
    _created_at(BEFORE)
