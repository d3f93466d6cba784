"""the period's milestones read by their case's time (issue #20)

The evaluation's GROUP BY and the channels' median join a period's cases to their milestones (one row per case,
keyed by its id). At a city's year (1,003,334 cases) the period holds 77,554 of them, and PostgreSQL answered the
join by hashing all million milestones (a parallel hash join that spills to disk with the default `work_mem`):
382 ms and 151 ms of the dashboard over the last 30 days. Forcing a nested loop over the milestones' key gave the
same.

``case_milestones.case_created_at`` is its case's ``created_at``, and ``ix_case_milestones_case_created_at``
(on PostgreSQL carrying the columns the figures read) gives a period's milestones as a range: the join adds
``case_created_at`` in the period to its key (`evaluation.milestones_of`), and two sets of the period's size are
joined (0.47–0.52 s → 0.14–0.19 s for the join alone, measured side by side on a loaded machine).

The writers give it (the report service and the engine from the case they hold, the demo's bulk loader from
the case it generated), and the database makes sure: a milestone inserted without it gets its case's (a trigger,
whatever wrote it: raw SQL, a benchmark's Core insert), and a case whose ``created_at`` changes moves its
milestone's with it. A milestone without it would drop out of its period's figures as if it had none; the
triggers leave none without it (the column stays nullable: SQLite checks NOT NULL before an AFTER INSERT trigger
could fill it).

Revision ID: 0044_milestone_case_time
Revises: 0043_cadre_last_visits
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op


revision = '0044_milestone_case_time'
down_revision = '0043_cadre_last_visits'
branch_labels = None
depends_on = None

# as core.models.workflow.MILESTONE_INCLUDE (a migration keeps its own copy)
INCLUDE = ("case_id", "accept_deadline_at", "accepted_at", "dispatched_at", "feedback_at", "rating", "satisfied",
           "voided")

POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION case_milestones_case_time() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.case_created_at := (SELECT created_at FROM cases WHERE id = NEW.case_id);
    RETURN NEW;
END $$""",
    "CREATE TRIGGER case_milestones_case_time BEFORE INSERT ON case_milestones FOR EACH ROW "
    "WHEN (NEW.case_created_at IS NULL) EXECUTE FUNCTION case_milestones_case_time()",
    """CREATE OR REPLACE FUNCTION cases_time_to_milestones() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE case_milestones SET case_created_at = NEW.created_at WHERE case_id = NEW.id;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER cases_time_to_milestones AFTER UPDATE OF created_at ON cases FOR EACH ROW "
    "WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at) EXECUTE FUNCTION cases_time_to_milestones()",
]
# SQLite's triggers cannot change NEW: the row is filled right after it is inserted
SQLITE = [
    "CREATE TRIGGER case_milestones_case_time AFTER INSERT ON case_milestones "
    "WHEN NEW.case_created_at IS NULL BEGIN "
    "UPDATE case_milestones SET case_created_at = (SELECT created_at FROM cases WHERE id = NEW.case_id) "
    "WHERE case_id = NEW.case_id; END",
    "CREATE TRIGGER cases_time_to_milestones AFTER UPDATE OF created_at ON cases "
    "WHEN OLD.created_at IS NOT NEW.created_at BEGIN "
    "UPDATE case_milestones SET case_created_at = NEW.created_at WHERE case_id = NEW.id; END",
]
TRIGGERS = {"case_milestones_case_time": "case_milestones", "cases_time_to_milestones": "cases"}
FUNCTIONS = ("case_milestones_case_time", "cases_time_to_milestones")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column("case_milestones", sa.Column("case_created_at", sa.DateTime(), nullable=True))
    if postgresql:
        op.execute("LOCK TABLE cases, case_milestones IN SHARE MODE")
    op.execute("UPDATE case_milestones SET case_created_at = (SELECT created_at FROM cases "
               "WHERE cases.id = case_milestones.case_id)")
    for statement in POSTGRESQL if postgresql else SQLITE:
        op.execute(statement)
    op.create_index("ix_case_milestones_case_created_at", "case_milestones", ["case_created_at"], unique=False,
                    postgresql_include=list(INCLUDE))


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.drop_index("ix_case_milestones_case_created_at", table_name="case_milestones")
    for name, table in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        for name in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute("ALTER TABLE case_milestones DROP COLUMN case_created_at")
