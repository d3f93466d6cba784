"""A partial index of the timeline's 退回 lines (issue #20)

The evaluation counts the dispatched cases a department returned at least once; at a city's year (six million
timeline lines, some fifty thousand returns) finding them was a scan of every line, 0.6 s of each indicator
query at a million cases. ``ix_case_events_returns`` holds the case ids of the return lines only (a partial
index, on PostgreSQL and SQLite alike; the query spells 'return' as a literal so both can use it).

Revision ID: 0034_case_event_returns
Revises: 0033_stored_warnings
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0034_case_event_returns'
down_revision = '0033_stored_warnings'
branch_labels = None
depends_on = None

CONDITION = sa.text("action = 'return'")


def upgrade() -> None:
    op.create_index('ix_case_events_returns', 'case_events', ['case_id'], unique=False,
                    postgresql_where=CONDITION, sqlite_where=CONDITION)


def downgrade() -> None:
    op.drop_index('ix_case_events_returns', table_name='case_events')
