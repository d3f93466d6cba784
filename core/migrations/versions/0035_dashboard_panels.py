"""the dashboard's panels at a city's volume (issue #20): 帮办实事 follow their household; indexes for the cadres'
household visits and the households never visited

**帮办实事 follow their household.** A matter is visible to whoever sees its household
(`core.grassroots.practical_matters.in_scope`). Read through the household, `household_id IN (households in
scope) OR owner = me` made PostgreSQL run the households subquery once per matter at a city's volume (minutes for
the leader's dashboard). The matter already carries its household's
grid id and region code from the promise; with them kept equal to the household's, the scope is read on the
matter itself (`core.scope`, a range on its region code or its grid) and means the same.

- backfill: every matter takes its household's grid id and region code now;
- a trigger on ``households`` (PostgreSQL and SQLite) copies a household's new grid id or region code to its
  matters whenever either changes, whichever path wrote it — the ORM, the importer, a hand-written UPDATE.

A later migration that rebuilds ``households`` on SQLite (``batch_alter_table`` with a table copy) drops its
triggers: it must create them again (``create_triggers`` below).

**Indexes** (partial, on both backends):
- ``ix_visits_cadre_households``: the cadres' household visits by time, with visitor and household: the period's
  户户见干部 (seen households, per cadre) read from the index alone instead of every visit of the table;
- ``ix_households_unvisited``: the households never visited (走村不漏户) by region code and grid: counted from the
  index; the households themselves come from ``household_counts``.

Revision ID: 0035_dashboard_panels
Revises: 0034_case_event_returns
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0035_dashboard_panels'
down_revision = '0034_case_event_returns'
branch_labels = None
depends_on = None

MOVED = "OLD.grid_id IS DISTINCT FROM NEW.grid_id OR OLD.region_code IS DISTINCT FROM NEW.region_code"
FOLLOW = ("UPDATE practical_matters SET grid_id = NEW.grid_id, region_code = NEW.region_code "
          "WHERE household_id = NEW.id;")
TRIGGER = "practical_matters_follow_household"
CADRE_HOUSEHOLD_VISIT = "target_kind = 'household' AND visitor_post IS NOT NULL"   # as in core/models/basedata.py
UNVISITED = "last_visit_at IS NULL"

POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {FOLLOW}
    RETURN NULL;
END $$""",
    f"CREATE TRIGGER {TRIGGER} AFTER UPDATE OF grid_id, region_code ON households "
    f"FOR EACH ROW WHEN ({MOVED}) EXECUTE FUNCTION {TRIGGER}()",
]
SQLITE = [
    f"CREATE TRIGGER {TRIGGER} AFTER UPDATE OF grid_id, region_code ON households "
    f"WHEN {MOVED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN {FOLLOW} END",
]


def create_triggers() -> None:
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def upgrade() -> None:
    # backfill and trigger in one transaction: a household moved meanwhile waits, then its matters follow it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("LOCK TABLE households IN SHARE MODE")
    op.execute("UPDATE practical_matters SET "
               "grid_id = (SELECT households.grid_id FROM households "
               "WHERE households.id = practical_matters.household_id), "
               "region_code = (SELECT households.region_code FROM households "
               "WHERE households.id = practical_matters.household_id)")
    create_triggers()
    op.create_index('ix_visits_cadre_households', 'visits', ['visited_at', 'visitor_account_id', 'target_id'],
                    unique=False, postgresql_where=sa.text(CADRE_HOUSEHOLD_VISIT),
                    sqlite_where=sa.text(CADRE_HOUSEHOLD_VISIT))
    op.create_index('ix_households_unvisited', 'households', ['region_code', 'grid_id'], unique=False,
                    postgresql_where=sa.text(UNVISITED), sqlite_where=sa.text(UNVISITED))


def downgrade() -> None:
    op.drop_index('ix_households_unvisited', table_name='households')
    op.drop_index('ix_visits_cadre_households', table_name='visits')
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON households")
        op.execute(f"DROP FUNCTION IF EXISTS {TRIGGER}()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
