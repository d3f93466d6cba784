"""Indexes for a city's volume (issue #20): the pages a city opens every day stay fast at a million cases

- ``ix_cases_closed_at``: the dashboard's trend counts the cases closed on each of the last 30 days
  (``closed_at >= start``); without it every dashboard read the whole year of cases.
- ``ix_cases_open``: the open cases only (status neither ``closed`` nor ``voided``, a few thousand among a million),
  by status and step deadline: the dashboard's open and overdue counts and its longest-overdue list, and the
  inbox's overdue filter, read this small index instead of scanning every case.

Revision ID: 0030_volume_indexes
Revises: 0029_audit_streams
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0030_volume_indexes'
down_revision = '0029_audit_streams'
branch_labels = None
depends_on = None

OPEN = sa.text("status NOT IN ('closed', 'voided')")


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_closed_at', ['closed_at'], unique=False)
        batch_op.create_index('ix_cases_open', ['status', 'state_deadline_at'], unique=False,
                              postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_open')
        batch_op.drop_index('ix_cases_closed_at')
