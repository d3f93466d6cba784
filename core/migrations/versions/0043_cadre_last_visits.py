"""户户见干部 over any window that ends today, from each household's last cadre visit kept as visits are written (#20)

The dashboard over "the last 30 days" (or chosen dates up to today) read the window's cadre visits of households
(~1.3 million at a city's volume) twice — the households a cadre visited per village or grid, and per cadre the
households they visited themselves — and counted distinct households each time: 1.7–1.9 s a page. A calendar month
is served from migration 0040's counts; a window that is not a month cannot be (its days are not a month's). But a
window that ends today has no visits after it, so a household was visited in it exactly when its *last* cadre visit
falls on or after the window's first day. The database now keeps that last day:

- ``visits.visit_day``: the calendar day of ``visited_at`` in the city's time, as YYYYMMDD, written with the visit
  exactly where ``visit_month`` is (the model's default and its ORM event, `core.models.basedata`; the demo's bulk
  loader gives it), for the reason 0040 gives: the zone is a setting the database does not read, and SQLite has
  none. A cadre visit without its day is not counted here; the read path finds one in the window in
  ``ix_visits_cadre_without_day`` (empty, normally) and reads that window from its visits instead.
- ``cadre_last_visits`` (account id — 0 for any cadre —, household id) → the day of the household's last cadre
  visit (by that cadre), with the household's grid id (0 for none) and region code as its visits carry them.
- ``cadre_last_visit_counts`` (day, account id, grid id, region code) → how many households have their last
  (that cadre's) visit on that day. The households a cadre (account 0), or that cadre, visited in a window
  [first day 00:00, end) with no cadre visit at or after its end are the rows' sum from the first day on — the keys
  `_seen` and `_own_visits` (core/grassroots/household_visits.py) group by. A row at 0 is deleted: the table holds
  only days that are some household's last (at most one row per household and cadre), not every day since.

A cadre visit of a household counts under 0040's condition (``target_kind = 'household'``, ``visitor_post`` set,
its household exists: ``household_region_code`` set by migration 0038) and has its day. How the triggers on
``visits`` (both databases) keep them: a last day is a maximum, which no ±1 can keep when a visit is deleted, so
every trigger *recomputes* the mark of each (account, household) its rows touch from the visits as they are now —
the latest counted visit, by day then id, found in ``ix_visits_cadre_household_days`` (target id, visitor, day;
partial: the cadres' household visits): a household has a few — and moves the counts from the old mark's key to
the new one (-1, +1) when they differ. Inserting an earlier visit, or deleting one that was not the last, leaves
the mark as it was; deleting the last falls back to the latest remaining visit, or the household drops out.
Because each trigger reads the visits as they are, the order the triggers of one statement fire in does not matter
(0038's fix of a new visit's place may come before or after: the last to run sees the final place). A change of
any column the marks depend on (target, visitor, post, day, the household's grid id or region code) is an update
the triggers follow — which is how a household's move or deletion reaches them, through 0038's triggers.

On PostgreSQL inserts and deletes are handled once per statement from the transition table (the demo COPYs a
million visits), an update per row, a TRUNCATE empties both tables; on SQLite per row. Two transactions writing
visits of one household at once would each recompute from a snapshot without the other's visit, so on PostgreSQL
a trigger first locks the touched households' rows (``FOR NO KEY UPDATE``, in id order; foreign-key checks are not
blocked) and recomputes in its next statement, which sees what the other committed (READ COMMITTED, the
platform's). SQLite has one writer at a time. The counts change by ±1 (concurrent visits of other households of a
grid add to the same row), and the rows they left at 0 are deleted after.

The backfill here gives every visit its day in the city's zone as stored (the platform's default zone without
one), as 0040 gave the month, and the marks and counts the triggers would have given.

A later migration that rebuilds ``visits`` on SQLite (``batch_alter_table`` with a table copy) drops its
triggers: it must create them again (``create_triggers`` below, 0038's and 0040's).

Revision ID: 0043_cadre_last_visits
Revises: 0042_open_cases_scope
Create Date: 2026-12-08
"""
import datetime as dt
import json
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

# one place names the default zone (tests/test_city_constants.py); a constant, not code that may change under us
from minqing.core.city import DEFAULT_TIMEZONE


revision = '0043_cadre_last_visits'
down_revision = '0042_open_cases_scope'
branch_labels = None
depends_on = None

CADRE_HOUSEHOLD_VISIT = "target_kind = 'household' AND visitor_post IS NOT NULL"   # as in core/models/basedata.py
WITHOUT_DAY = f"{CADRE_HOUSEHOLD_VISIT} AND visit_day IS NULL"
MARK = "account_id, household_id, day, grid_id, region_code"
COUNT_KEY = "day, account_id, grid_id, region_code"
# what a change of these moves (a visit's marks are a function of them)
KEPT_BY = ("target_kind", "target_id", "visitor_post", "visitor_account_id", "visit_day", "household_grid_id",
           "household_region_code")
ACCOUNTS = ("0", "visitor_account_id")   # every cadre visit is marked for account 0 and for its visitor's
OLD_KEPT, NEW_KEPT = (", ".join(f"{row}.{column}" for column in KEPT_BY) for row in ("OLD", "NEW"))


def counted(row: str, account: str) -> str:
    """The visit `row` (a table alias, NEW or OLD) is marked for `account` (one of ACCOUNTS)."""
    condition = (f"{row}.target_kind = 'household' AND {row}.visitor_post IS NOT NULL "
                 f"AND {row}.household_region_code IS NOT NULL AND {row}.visit_day IS NOT NULL")
    return condition if account == "0" else f"{condition} AND {row}.{account} IS NOT NULL"


def _who(row: str, account: str) -> str:
    return account if account == "0" else f"{row}.{account}"


def _latest(account_id: str, household_id: str) -> str:
    """The day and place of the latest counted visit of the household `household_id` by `account_id` (SQL
    expressions; account 0: by any cadre), or no row: a few entries of ``ix_visits_cadre_household_days``."""
    return (f"SELECT v.visit_day AS day, coalesce(v.household_grid_id, 0) AS grid_id, "
            f"v.household_region_code AS region_code FROM visits AS v "
            f"WHERE v.target_id = {household_id} AND {counted('v', '0')} "
            f"AND ({account_id} = 0 OR v.visitor_account_id = {account_id}) "
            f"ORDER BY v.visit_day DESC, v.id DESC LIMIT 1")


# -- PostgreSQL: the marks a statement touches, recomputed at once ---------------------------------------------

def _touched(parts: list[tuple[str, str]]) -> str:
    """The (account id, household id) pairs whose marks the rows may move: (row alias, FROM clause or "") each."""
    return " UNION ".join(f"SELECT {_who(row, account)}, {row}.target_id {source} WHERE {counted(row, account)}"
                          for row, source in parts for account in ACCOUNTS)


def _refresh(parts: list[tuple[str, str]]) -> str:
    """Lock the touched households; then recompute their marks from the visits, move the counts of the marks that
    changed (old key -1, new key +1), and delete the counts left at 0."""
    touched = _touched(parts)
    count_key = ", ".join(f"c.{column}" for column in COUNT_KEY.split(", "))
    return f"""PERFORM 1 FROM households WHERE id IN (SELECT t.household_id FROM ({touched}) AS t (account_id,
        household_id)) ORDER BY id FOR NO KEY UPDATE;
    WITH touched (account_id, household_id) AS ({touched}),
    latest AS (
        SELECT t.account_id, t.household_id, l.day, l.grid_id, l.region_code FROM touched AS t
        CROSS JOIN LATERAL ({_latest('t.account_id', 't.household_id')}) AS l),
    kept AS (
        SELECT m.account_id, m.household_id, m.day, m.grid_id, m.region_code
        FROM cadre_last_visits AS m JOIN touched USING (account_id, household_id)),
    moved AS (
        SELECT account_id, household_id, k.day AS was_day, k.grid_id AS was_grid, k.region_code AS was_region,
               l.day, l.grid_id, l.region_code
        FROM kept AS k FULL JOIN latest AS l USING (account_id, household_id)
        WHERE (k.day, k.grid_id, k.region_code) IS DISTINCT FROM (l.day, l.grid_id, l.region_code)),
    dropped AS (
        DELETE FROM cadre_last_visits AS m USING moved
        WHERE moved.day IS NULL AND (m.account_id, m.household_id) = (moved.account_id, moved.household_id)),
    marked AS (
        INSERT INTO cadre_last_visits AS m ({MARK}) SELECT {MARK} FROM moved WHERE day IS NOT NULL
        ON CONFLICT (account_id, household_id) DO UPDATE
        SET day = excluded.day, grid_id = excluded.grid_id, region_code = excluded.region_code),
    change AS (
        SELECT {COUNT_KEY}, sum(n) AS n FROM (
            SELECT was_day, account_id, was_grid, was_region, -1 FROM moved WHERE was_day IS NOT NULL
            UNION ALL SELECT day, account_id, grid_id, region_code, 1 FROM moved WHERE day IS NOT NULL
        ) AS c ({COUNT_KEY}, n) GROUP BY {COUNT_KEY} HAVING sum(n) <> 0),
    counted AS (
        INSERT INTO cadre_last_visit_counts AS c ({COUNT_KEY}, households) SELECT {COUNT_KEY}, n FROM change
        ON CONFLICT ({COUNT_KEY}) DO UPDATE SET households = c.households + excluded.households
        RETURNING {count_key}, c.households)
    SELECT array_agg(day), array_agg(account_id), array_agg(grid_id), array_agg(region_code)
    INTO emptied_days, emptied_accounts, emptied_grids, emptied_regions FROM counted WHERE households = 0;
    DELETE FROM cadre_last_visit_counts AS c
    USING unnest(emptied_days, emptied_accounts, emptied_grids, emptied_regions) AS e ({COUNT_KEY})
    WHERE ({count_key}) = ({count_key.replace('c.', 'e.')}) AND c.households = 0;"""


def _function(name: str, body: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    emptied_days integer[];
    emptied_accounts integer[];
    emptied_grids integer[];
    emptied_regions varchar[];
BEGIN
    {body}
    RETURN NULL;
END $$"""


POSTGRESQL = [
    _function("cadre_last_visits_added", _refresh([("r", "FROM added AS r")])),
    _function("cadre_last_visits_removed", _refresh([("r", "FROM removed AS r")])),
    _function("cadre_last_visits_changed", _refresh([("OLD", ""), ("NEW", "")])),
    _function("cadre_last_visits_emptied", "DELETE FROM cadre_last_visits; DELETE FROM cadre_last_visit_counts;"),
    "CREATE TRIGGER cadre_last_visits_insert AFTER INSERT ON visits REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION cadre_last_visits_added()",
    "CREATE TRIGGER cadre_last_visits_delete AFTER DELETE ON visits REFERENCING OLD TABLE AS removed "
    "FOR EACH STATEMENT EXECUTE FUNCTION cadre_last_visits_removed()",
    f"CREATE TRIGGER cadre_last_visits_update AFTER UPDATE OF {', '.join(KEPT_BY)} ON visits FOR EACH ROW "
    f"WHEN (({OLD_KEPT}) IS DISTINCT FROM ({NEW_KEPT})) EXECUTE FUNCTION cadre_last_visits_changed()",
    "CREATE TRIGGER cadre_last_visits_truncate AFTER TRUNCATE ON visits "
    "FOR EACH STATEMENT EXECUTE FUNCTION cadre_last_visits_emptied()",
]


# -- SQLite: per row, the visit's two marks recomputed one after the other ------------------------------------

def _step(row: str) -> str:
    """Recompute the marks of the visit `row` (OLD or NEW) for account 0 and its visitor: take the old mark's
    count away (deleted at 0), replace the mark by the latest visit's, add its count."""
    statements = []
    for account in ACCOUNTS:
        who, when = _who(row, account), counted(row, account)
        mark = f"account_id = {who} AND household_id = {row}.target_id"
        its_key = f"({COUNT_KEY}) = (SELECT {COUNT_KEY} FROM cadre_last_visits WHERE {mark})"
        statements += [
            f"UPDATE cadre_last_visit_counts SET households = households - 1 WHERE {its_key} AND {when};",
            f"DELETE FROM cadre_last_visit_counts WHERE {its_key} AND households = 0;",
            f"DELETE FROM cadre_last_visits WHERE {mark} AND {when};",
            f"INSERT INTO cadre_last_visits ({MARK}) SELECT {who}, {row}.target_id, day, grid_id, region_code "
            f"FROM ({_latest(who, f'{row}.target_id')}) WHERE {when};",
            f"INSERT INTO cadre_last_visit_counts ({COUNT_KEY}, households) SELECT {COUNT_KEY}, 1 "
            f"FROM cadre_last_visits WHERE {mark} AND {when} "
            f"ON CONFLICT ({COUNT_KEY}) DO UPDATE SET households = households + 1;"]
    return " ".join(statements)


SQLITE = [
    f"CREATE TRIGGER cadre_last_visits_insert AFTER INSERT ON visits WHEN {counted('NEW', '0')} "
    f"BEGIN {_step('NEW')} END",
    f"CREATE TRIGGER cadre_last_visits_delete AFTER DELETE ON visits WHEN {counted('OLD', '0')} "
    f"BEGIN {_step('OLD')} END",
    f"CREATE TRIGGER cadre_last_visits_update AFTER UPDATE OF {', '.join(KEPT_BY)} ON visits "
    f"WHEN ({OLD_KEPT}) IS NOT ({NEW_KEPT}) BEGIN {_step('OLD')} {_step('NEW')} END",
]
TRIGGERS = ("cadre_last_visits_insert", "cadre_last_visits_delete", "cadre_last_visits_update",
            "cadre_last_visits_truncate")
FUNCTIONS = ("cadre_last_visits_added", "cadre_last_visits_removed", "cadre_last_visits_changed",
             "cadre_last_visits_emptied")


def create_triggers() -> None:
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def _offset_seconds() -> int:
    """The city's offset from UTC as stored (its zone is fixed: core.city refuses daylight saving)."""
    value = op.get_bind().execute(sa.text("SELECT value FROM settings WHERE name = 'city'")).scalar()
    timezone = json.loads(value).get("timezone", DEFAULT_TIMEZONE) if value else DEFAULT_TIMEZONE
    return int(ZoneInfo(timezone).utcoffset(dt.datetime(2000, 1, 1)).total_seconds())


def _backfill() -> None:
    """Every visit's day in the city's time; then each household's last counted visit per account (by day, then
    id, as the triggers pick it) and their counts."""
    seconds = _offset_seconds()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"UPDATE visits SET visit_day = CAST(to_char(visited_at + interval '{seconds} seconds', "
                   f"'YYYYMMDD') AS integer)")
    else:
        op.execute(f"UPDATE visits SET visit_day = CAST(strftime('%Y%m%d', visited_at, '{seconds:+d} seconds') "
                   f"AS INTEGER)")
    visited = " UNION ALL ".join(
        f"SELECT {_who('v', account)} AS account_id, v.target_id AS household_id, v.visit_day AS day, "
        f"coalesce(v.household_grid_id, 0) AS grid_id, v.household_region_code AS region_code, v.id "
        f"FROM visits AS v WHERE {counted('v', account)}" for account in ACCOUNTS)
    op.execute(f"INSERT INTO cadre_last_visits ({MARK}) SELECT {MARK} FROM ("
               f"SELECT {MARK}, row_number() OVER (PARTITION BY account_id, household_id "
               f"ORDER BY day DESC, id DESC) AS place FROM ({visited}) AS visited) AS ranked WHERE place = 1")
    op.execute(f"INSERT INTO cadre_last_visit_counts ({COUNT_KEY}, households) "
               f"SELECT {COUNT_KEY}, count(*) FROM cadre_last_visits GROUP BY {COUNT_KEY}")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column('visits', sa.Column('visit_day', sa.Integer(), nullable=True))
    op.create_table('cadre_last_visits',
    sa.Column('account_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('household_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=15), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'household_id', name=op.f('pk_cadre_last_visits'))
    )
    op.create_table('cadre_last_visit_counts',
    sa.Column('day', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('grid_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('region_code', sa.String(length=15), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'account_id', 'grid_id', 'region_code', name=op.f('pk_cadre_last_visit_counts'))
    )
    # backfill and triggers in this one transaction: a visit or household written meanwhile waits, then counts
    if postgresql:
        op.execute("LOCK TABLE households, visits IN SHARE MODE")
    _backfill()
    op.create_index('ix_visits_cadre_household_days', 'visits', ['target_id', 'visitor_account_id', 'visit_day'],
                    unique=False, postgresql_where=sa.text(CADRE_HOUSEHOLD_VISIT),
                    sqlite_where=sa.text(CADRE_HOUSEHOLD_VISIT))
    create_triggers()
    op.create_index('ix_visits_cadre_without_day', 'visits', ['visited_at'], unique=False,
                    postgresql_where=sa.text(WITHOUT_DAY), sqlite_where=sa.text(WITHOUT_DAY))


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.drop_index('ix_visits_cadre_without_day', table_name='visits')
    for name in TRIGGERS if postgresql else TRIGGERS[:3]:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON visits" if postgresql else ""))
    if postgresql:
        for name in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index('ix_visits_cadre_household_days', table_name='visits')
    op.drop_table('cadre_last_visit_counts')
    op.drop_table('cadre_last_visits')
    # not batch_alter_table: on SQLite its copy of the table would drop the triggers of migrations 0038 and 0040
    op.execute("ALTER TABLE visits DROP COLUMN visit_day")
