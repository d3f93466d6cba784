"""户户见干部 read from the visits alone (issue #20): a household visit carries its household's current grid and region

The coverage counts the households a cadre visited in a period by the households' *current* grid id and region
code (a household that moved since the visit counts where it lives now). Joining the period's visits to
``households`` for them was most of the dashboard's 户户见干部 (0.5 s for the seen households, 1.25 s for the
per-cadre pairs at a city's 1.77 million visits). Now every household visit keeps a copy:

- ``visits.household_grid_id``, ``visits.household_region_code``: the visited household's grid id and region
  code as they are now; NULL for other visits and for a visit whose household does not exist (the join found
  none either). Backfilled here, kept by triggers (PostgreSQL and SQLite) whichever path wrote the rows — the
  ORM, the importer, the demo's COPY, a hand-written UPDATE:
  - on ``visits`` INSERT (and UPDATE of its target): the household's, unless the writer gave them already (the
    bulk loaders do: then nothing is rewritten; on PostgreSQL once per statement, from its transition table);
  - on ``households`` UPDATE of grid_id or region_code: its visits follow it (per row, by ``visits.target_id``);
  - on ``households`` INSERT (a visit recorded before its household, an id reused on SQLite) and DELETE
    (and TRUNCATE on PostgreSQL): its visits take the new household's place, or none.
- ``ix_visits_cadre_households`` (partial: the cadres' household visits) now holds the copies too, so a
  period's seen households per grid or region, and each cadre's visited households, are an index-only range
  scan without a join.

A later migration that rebuilds ``visits`` or ``households`` on SQLite (``batch_alter_table`` with a table copy)
drops their triggers: it must create them again (``create_triggers`` below).

Revision ID: 0038_visit_household_place
Revises: 0037_dashboard_figures
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0038_visit_household_place'
down_revision = '0037_dashboard_figures'
branch_labels = None
depends_on = None

CADRE_HOUSEHOLD_VISIT = "target_kind = 'household' AND visitor_post IS NOT NULL"   # as in core/models/basedata.py
INDEX = 'ix_visits_cadre_households'
COLUMNS = ['visited_at', 'visitor_account_id', 'target_id', 'household_grid_id', 'household_region_code']
OLD_COLUMNS = ['visited_at', 'visitor_account_id', 'target_id']

MOVED = "OLD.grid_id IS DISTINCT FROM NEW.grid_id OR OLD.region_code IS DISTINCT FROM NEW.region_code"
RETARGETED = "OLD.target_kind IS DISTINCT FROM NEW.target_kind OR OLD.target_id IS DISTINCT FROM NEW.target_id"
FOLLOW = ("UPDATE visits SET household_grid_id = NEW.grid_id, household_region_code = NEW.region_code "
          "WHERE target_kind = 'household' AND target_id = NEW.id")
ORPHAN = ("UPDATE visits SET household_grid_id = NULL, household_region_code = NULL "
          "WHERE target_kind = 'household' AND target_id = OLD.id")

POSTGRESQL = [
    # visits written: the household's place, for the rows whose writer did not give it (or gave another)
    """CREATE OR REPLACE FUNCTION visits_household_place_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE visits SET household_grid_id = fix.grid_id, household_region_code = fix.region_code
    FROM (SELECT a.id, h.grid_id, h.region_code FROM added a LEFT JOIN households h ON h.id = a.target_id
          WHERE a.target_kind = 'household' AND (a.household_grid_id IS DISTINCT FROM h.grid_id
                                                 OR a.household_region_code IS DISTINCT FROM h.region_code)) AS fix
    WHERE visits.id = fix.id;
    RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION visits_household_place_retargeted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.target_kind = 'household' THEN
        SELECT grid_id, region_code INTO NEW.household_grid_id, NEW.household_region_code
        FROM households WHERE id = NEW.target_id;
        IF NOT FOUND THEN
            NEW.household_grid_id := NULL;
            NEW.household_region_code := NULL;
        END IF;
    ELSE
        NEW.household_grid_id := NULL;
        NEW.household_region_code := NULL;
    END IF;
    RETURN NEW;
END $$""",
    f"""CREATE OR REPLACE FUNCTION visits_follow_household() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {FOLLOW};
    RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION visits_household_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE visits SET household_grid_id = added.grid_id, household_region_code = added.region_code
    FROM added WHERE visits.target_kind = 'household' AND visits.target_id = added.id
    AND (visits.household_grid_id IS DISTINCT FROM added.grid_id
         OR visits.household_region_code IS DISTINCT FROM added.region_code);
    RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION visits_household_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE visits SET household_grid_id = NULL, household_region_code = NULL
    FROM removed WHERE visits.target_kind = 'household' AND visits.target_id = removed.id;
    RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION visits_households_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE visits SET household_grid_id = NULL, household_region_code = NULL
    WHERE household_region_code IS NOT NULL OR household_grid_id IS NOT NULL;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER visits_household_place_insert AFTER INSERT ON visits REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION visits_household_place_added()",
    f"CREATE TRIGGER visits_household_place_update BEFORE UPDATE OF target_kind, target_id ON visits "
    f"FOR EACH ROW WHEN ({RETARGETED}) EXECUTE FUNCTION visits_household_place_retargeted()",
    f"CREATE TRIGGER visits_follow_household AFTER UPDATE OF grid_id, region_code ON households "
    f"FOR EACH ROW WHEN ({MOVED}) EXECUTE FUNCTION visits_follow_household()",
    "CREATE TRIGGER visits_household_insert AFTER INSERT ON households REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION visits_household_added()",
    "CREATE TRIGGER visits_household_delete AFTER DELETE ON households REFERENCING OLD TABLE AS removed "
    "FOR EACH STATEMENT EXECUTE FUNCTION visits_household_removed()",
    "CREATE TRIGGER visits_household_truncate AFTER TRUNCATE ON households "
    "FOR EACH STATEMENT EXECUTE FUNCTION visits_households_emptied()",
]
PLACE_OF_NEW = ("UPDATE visits SET "
                "household_grid_id = (SELECT grid_id FROM households WHERE id = NEW.target_id), "
                "household_region_code = (SELECT region_code FROM households WHERE id = NEW.target_id) "
                "WHERE id = NEW.id")
WRONG_PLACE = ("NEW.target_kind = 'household' AND ("
               "NEW.household_grid_id IS NOT (SELECT grid_id FROM households WHERE id = NEW.target_id) OR "
               "NEW.household_region_code IS NOT (SELECT region_code FROM households WHERE id = NEW.target_id))")
SQLITE = [
    f"CREATE TRIGGER visits_household_place_insert AFTER INSERT ON visits WHEN {WRONG_PLACE} "
    f"BEGIN {PLACE_OF_NEW}; END",
    f"CREATE TRIGGER visits_household_place_update AFTER UPDATE OF target_kind, target_id ON visits "
    f"WHEN {RETARGETED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN "
    f"UPDATE visits SET household_grid_id = NULL, household_region_code = NULL WHERE id = NEW.id; "
    f"{PLACE_OF_NEW} AND NEW.target_kind = 'household'; END",
    f"CREATE TRIGGER visits_follow_household AFTER UPDATE OF grid_id, region_code ON households "
    f"WHEN {MOVED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN {FOLLOW}; END",
    f"CREATE TRIGGER visits_household_insert AFTER INSERT ON households BEGIN {FOLLOW}; END",
    f"CREATE TRIGGER visits_household_delete AFTER DELETE ON households BEGIN {ORPHAN}; END",
]
TRIGGERS = {"visits_household_place_insert": "visits", "visits_household_place_update": "visits",
            "visits_follow_household": "households", "visits_household_insert": "households",
            "visits_household_delete": "households", "visits_household_truncate": "households"}
FUNCTIONS = ("visits_household_place_added", "visits_household_place_retargeted", "visits_follow_household",
             "visits_household_added", "visits_household_removed", "visits_households_emptied")


def create_triggers() -> None:
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column('visits', sa.Column('household_grid_id', sa.Integer(), nullable=True))
    op.add_column('visits', sa.Column('household_region_code', sa.String(length=15), nullable=True))
    # backfill and triggers in this one transaction: a visit or household written meanwhile waits, then follows
    if postgresql:
        op.execute("LOCK TABLE households, visits IN SHARE MODE")
        op.execute("UPDATE visits SET household_grid_id = h.grid_id, household_region_code = h.region_code "
                   "FROM households h WHERE visits.target_kind = 'household' AND h.id = visits.target_id")
    else:
        op.execute("UPDATE visits SET "
                   "household_grid_id = (SELECT grid_id FROM households WHERE id = visits.target_id), "
                   "household_region_code = (SELECT region_code FROM households WHERE id = visits.target_id) "
                   "WHERE target_kind = 'household'")
    create_triggers()
    op.drop_index(INDEX, table_name='visits')
    op.create_index(INDEX, 'visits', COLUMNS, unique=False, postgresql_where=sa.text(CADRE_HOUSEHOLD_VISIT),
                    sqlite_where=sa.text(CADRE_HOUSEHOLD_VISIT))


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.drop_index(INDEX, table_name='visits')
    op.create_index(INDEX, 'visits', OLD_COLUMNS, unique=False, postgresql_where=sa.text(CADRE_HOUSEHOLD_VISIT),
                    sqlite_where=sa.text(CADRE_HOUSEHOLD_VISIT))
    for name, table in TRIGGERS.items():
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        elif name != "visits_household_truncate":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    if postgresql:
        for name in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    with op.batch_alter_table('visits') as batch_op:
        batch_op.drop_column('household_region_code')
        batch_op.drop_column('household_grid_id')
