"""Households per grid and region kept by the database (issue #20): the 户户见干部 coverage's denominators

- ``household_counts``: (grid id — 0 for none —, region code) → households, backfilled here and kept by triggers
  on ``households`` from then on: every insert, delete and move (grid or region code changed), whichever path
  wrote it — the ORM, the importer's Core inserts, the demo's COPY. On PostgreSQL inserts and deletes are counted
  once per statement from its transition table (a COPY of a million households adds one grouped UPSERT), a
  TRUNCATE empties the counts; on SQLite (no statement triggers) once per row, in process. A move is counted per
  row, only when the grid or region code changed (a visit's ``last_visit_at`` touches nothing).
- ``ix_visits_kind_time``: the household visits of a period by range, not every visit ever recorded.

A later migration that rebuilds ``households`` on SQLite (``batch_alter_table`` with a table copy) drops its
triggers: it must create them again (``create_triggers`` below).

Revision ID: 0031_household_counts
Revises: 0030_volume_indexes
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0031_household_counts'
down_revision = '0030_volume_indexes'
branch_labels = None
depends_on = None

ADD_ONE = ("INSERT INTO household_counts (grid_id, region_code, households) "
           "VALUES (coalesce(NEW.grid_id, 0), NEW.region_code, 1) "
           "ON CONFLICT (grid_id, region_code) DO UPDATE SET households = household_counts.households + 1;")
REMOVE_ONE = ("UPDATE household_counts SET households = households - 1 "
              "WHERE grid_id = coalesce(OLD.grid_id, 0) AND region_code = OLD.region_code;")
MOVED = "OLD.grid_id IS DISTINCT FROM NEW.grid_id OR OLD.region_code IS DISTINCT FROM NEW.region_code"

POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION household_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO household_counts (grid_id, region_code, households)
    SELECT coalesce(grid_id, 0), region_code, count(*) FROM added GROUP BY 1, 2
    ON CONFLICT (grid_id, region_code) DO UPDATE SET households = household_counts.households + excluded.households;
    RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION household_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE household_counts SET households = household_counts.households - gone.n
    FROM (SELECT coalesce(grid_id, 0) AS grid_id, region_code, count(*) AS n FROM removed GROUP BY 1, 2) AS gone
    WHERE household_counts.grid_id = gone.grid_id AND household_counts.region_code = gone.region_code;
    RETURN NULL;
END $$""",
    f"""CREATE OR REPLACE FUNCTION household_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {REMOVE_ONE}
    {ADD_ONE}
    RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION household_counts_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM household_counts;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER household_counts_insert AFTER INSERT ON households REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION household_counts_added()",
    "CREATE TRIGGER household_counts_delete AFTER DELETE ON households REFERENCING OLD TABLE AS removed "
    "FOR EACH STATEMENT EXECUTE FUNCTION household_counts_removed()",
    f"CREATE TRIGGER household_counts_update AFTER UPDATE OF grid_id, region_code ON households "
    f"FOR EACH ROW WHEN ({MOVED}) EXECUTE FUNCTION household_counts_moved()",
    "CREATE TRIGGER household_counts_truncate AFTER TRUNCATE ON households "
    "FOR EACH STATEMENT EXECUTE FUNCTION household_counts_emptied()",
]
SQLITE = [
    f"CREATE TRIGGER household_counts_insert AFTER INSERT ON households BEGIN {ADD_ONE} END",
    f"CREATE TRIGGER household_counts_delete AFTER DELETE ON households BEGIN {REMOVE_ONE} END",
    f"CREATE TRIGGER household_counts_update AFTER UPDATE OF grid_id, region_code ON households "
    f"WHEN {MOVED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN {REMOVE_ONE} {ADD_ONE} END",
]
TRIGGERS = ("household_counts_insert", "household_counts_delete", "household_counts_update",
            "household_counts_truncate")
FUNCTIONS = ("household_counts_added", "household_counts_removed", "household_counts_moved",
             "household_counts_emptied")


def create_triggers() -> None:
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def upgrade() -> None:
    op.create_table('household_counts',
    sa.Column('grid_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('region_code', sa.String(length=15), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('grid_id', 'region_code', name=op.f('pk_household_counts'))
    )
    # backfill and triggers in this one transaction: a household written meanwhile waits, then is counted once
    if op.get_bind().dialect.name == "postgresql":
        op.execute("LOCK TABLE households IN SHARE MODE")
    op.execute("INSERT INTO household_counts (grid_id, region_code, households) "
               "SELECT coalesce(grid_id, 0), region_code, count(*) FROM households GROUP BY coalesce(grid_id, 0), "
               "region_code")
    create_triggers()
    op.create_index('ix_visits_kind_time', 'visits', ['target_kind', 'visited_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_visits_kind_time', table_name='visits')
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGERS if postgresql else TRIGGERS[:3]:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON households" if postgresql else ""))
    if postgresql:
        for name in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table('household_counts')
