"""户户见干部 for a calendar month from counts kept as visits are written (issue #20)

A month's 户户见干部 read the month's cadre visits of households (~950,000 at a city's volume) twice: the households
a cadre visited per village or grid, each once (1.1–2.3 s), and per cadre the households they visited themselves
(1.7–2.5 s). For a window that is one calendar month in the city's time they are now read from a few thousand
rows kept by the database:

- ``visits.visit_month``: the calendar month of ``visited_at`` in the city's time, as YYYYMM, written with the
  visit (the model's default and its ORM event, `core.models.basedata`; the demo's bulk loader gives it). Why a
  column the writer fills and not the triggers: the city's zone is a setting (`core.city`), which the database
  does not read, and SQLite has no time zones at all — a trigger there cannot tell which month 2026-11-30 16:30
  UTC is in (December in Shanghai). A writer that leaves it NULL is not counted here; the read path finds such
  a visit in ``ix_visits_cadre_without_month`` (empty, normally) and reads that month from its visits instead.
  A writer that changes ``visited_at`` itself (not through the ORM, whose event follows) changes the month with it.
  The backfill here uses the city's zone as stored (the platform's default zone without one). A month is fixed when written:
  changing the city's zone later (it is fixed at set-up) does not move visits already counted.
- ``cadre_visit_marks`` (month, account id — 0 for any cadre —, household id, the household's grid id — 0 for
  none — and region code) → how many of the month's cadre visits of the household there are; a household
  counts while its mark is above 0.
- ``cadre_visit_counts`` (month, account id, grid id, region code) → how many marks there are above 0: the
  households any cadre (account 0), or that cadre, visited that month, where the households are now — the keys
  `_seen` and `_seen_by_own_cadre` group by.

A cadre visit of a household counts when ``target_kind = 'household'``, ``visitor_post`` is set, its household
exists (``household_region_code`` set: migration 0038) and it has a month. Triggers on ``visits`` (both
databases) add a visit's marks as it is inserted, take them away as it is deleted, and move them when any of
those or its visitor, month or household place changes — which is also how a household's move or deletion
reaches them: migration 0038's triggers rewrite its visits' place, and these follow. On PostgreSQL inserts and
deletes are counted once per statement from the transition table (a COPY of a month of visits adds one grouped
upsert), an update per row, a TRUNCATE empties both tables; on SQLite per row. Each change adds ±1 to a mark and
counts the marks that cross 0, so the order the triggers of one statement fire in does not matter (0038's fix of
a visit's place may run before or after the insert is counted: a mark may stand at -1 in between).

A later migration that rebuilds ``visits`` on SQLite (``batch_alter_table`` with a table copy) drops its
triggers: it must create them again (``create_triggers`` below, and 0038's).

Revision ID: 0040_cadre_visit_counts
Revises: 0039_theme_case_index
Create Date: 2026-12-07
"""
import datetime as dt
import json
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

# one place names the default zone (tests/test_city_constants.py); a constant, not code that may change under us
from minqing.core.city import DEFAULT_TIMEZONE


revision = '0040_cadre_visit_counts'
down_revision = '0039_theme_case_index'
branch_labels = None
depends_on = None

CADRE_HOUSEHOLD_VISIT = "target_kind = 'household' AND visitor_post IS NOT NULL"
WITHOUT_MONTH = f"{CADRE_HOUSEHOLD_VISIT} AND visit_month IS NULL"
MARK_KEY = "month, account_id, household_id, grid_id, region_code"
COUNT_KEY = "month, account_id, grid_id, region_code"
# what a change of these moves (a visit's marks are a function of them)
KEPT_BY = ("target_kind", "target_id", "visitor_post", "visitor_account_id", "visit_month", "household_grid_id",
           "household_region_code")
ACCOUNTS = ("0", "visitor_account_id")   # every cadre visit is marked for account 0 and for its visitor's
OLD_KEPT, NEW_KEPT = (", ".join(f"{row}.{column}" for column in KEPT_BY) for row in ("OLD", "NEW"))


def counted(row: str, account: str) -> str:
    """The visit `row` (a table alias, NEW or OLD) is marked for `account` (one of ACCOUNTS)."""
    condition = (f"{row}.target_kind = 'household' AND {row}.visitor_post IS NOT NULL "
                 f"AND {row}.household_region_code IS NOT NULL AND {row}.visit_month IS NOT NULL")
    return condition if account == "0" else f"{condition} AND {row}.{account} IS NOT NULL"


def _values(row: str, account: str, *, household: bool) -> list[str]:
    """The key of the visit `row`'s mark for `account` (MARK_KEY), or of its count (COUNT_KEY)."""
    who = account if account == "0" else f"{row}.{account}"
    return [f"{row}.visit_month", who, *([f"{row}.target_id"] if household else []),
            f"coalesce({row}.household_grid_id, 0)", f"{row}.household_region_code"]


def mark_of(row: str, account: str) -> str:
    return ", ".join(_values(row, account, household=True))


def count_of(row: str, account: str) -> str:
    return ", ".join(_values(row, account, household=False))


def _is_mark(row: str, account: str, table: str = "cadre_visit_marks") -> str:
    return f"({table}.{MARK_KEY.replace(', ', f', {table}.')}) = ({mark_of(row, account)})"


# -- PostgreSQL: a statement's changes as ±1 per mark, applied at once -----------------------------------------

def _changes(parts: list[tuple[str, str, str]]) -> str:
    """The marks a statement changes and by how much: (row alias, FROM clause or "" for NEW/OLD, sign) each."""
    return " UNION ALL ".join(f"SELECT {mark_of(row, account)}, {sign} {source} WHERE {counted(row, account)}"
                              for row, source, sign in parts for account in ACCOUNTS)


def _apply(parts: list[tuple[str, str, str]], removes: bool) -> str:
    """Add the changes to the marks, then to the counts the marks that crossed 0 (old = new - change); with
    `removes`, drop the marks left at 0."""
    key = ", ".join(f"m.{column}" for column in MARK_KEY.split(", "))
    statement = f"""WITH change ({MARK_KEY}, n) AS (
        SELECT {MARK_KEY}, sum(n) FROM ({_changes(parts)}) AS c ({MARK_KEY}, n) GROUP BY {MARK_KEY}
        HAVING sum(n) <> 0),
    marked AS (
        INSERT INTO cadre_visit_marks AS m ({MARK_KEY}, visits) SELECT {MARK_KEY}, n FROM change
        ON CONFLICT ({MARK_KEY}) DO UPDATE SET visits = m.visits + excluded.visits
        RETURNING {key}, m.visits),
    crossed AS (
        SELECT {COUNT_KEY}, sum((marked.visits > 0)::int - (marked.visits - change.n > 0)::int) AS households
        FROM marked JOIN change USING ({MARK_KEY}) GROUP BY {COUNT_KEY})
    INSERT INTO cadre_visit_counts AS c ({COUNT_KEY}, households)
    SELECT {COUNT_KEY}, households FROM crossed WHERE households <> 0
    ON CONFLICT ({COUNT_KEY}) DO UPDATE SET households = c.households + excluded.households;"""
    if removes:
        statement += f"""
    DELETE FROM cadre_visit_marks m USING ({_changes(parts)}) AS c ({MARK_KEY}, n)
    WHERE m.visits = 0 AND ({key}) = ({", ".join(f"c.{column}" for column in MARK_KEY.split(", "))});"""
    return statement


def _function(name: str, body: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {body}
    RETURN NULL;
END $$"""


POSTGRESQL = [
    _function("cadre_visits_added", _apply([("r", "FROM added AS r", "1")], removes=False)),
    _function("cadre_visits_removed", _apply([("r", "FROM removed AS r", "-1")], removes=True)),
    _function("cadre_visits_changed", _apply([("OLD", "", "-1"), ("NEW", "", "1")], removes=True)),
    _function("cadre_visits_emptied", "DELETE FROM cadre_visit_marks; DELETE FROM cadre_visit_counts;"),
    "CREATE TRIGGER cadre_visits_insert AFTER INSERT ON visits REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION cadre_visits_added()",
    "CREATE TRIGGER cadre_visits_delete AFTER DELETE ON visits REFERENCING OLD TABLE AS removed "
    "FOR EACH STATEMENT EXECUTE FUNCTION cadre_visits_removed()",
    f"CREATE TRIGGER cadre_visits_update AFTER UPDATE OF {', '.join(KEPT_BY)} ON visits FOR EACH ROW "
    f"WHEN (({OLD_KEPT}) IS DISTINCT FROM ({NEW_KEPT})) EXECUTE FUNCTION cadre_visits_changed()",
    "CREATE TRIGGER cadre_visits_truncate AFTER TRUNCATE ON visits "
    "FOR EACH STATEMENT EXECUTE FUNCTION cadre_visits_emptied()",
]


# -- SQLite: per row, ±1 at a time: a mark crossing 0 stands at 1 after adding one, at 0 after taking one away ---

def _step(row: str, sign: int) -> str:
    """Add (1) or take away (-1) the visit `row`'s marks; count those that crossed 0; forget those at 0."""
    return " ".join(
        f"INSERT INTO cadre_visit_marks ({MARK_KEY}, visits) SELECT {mark_of(row, account)}, {sign} "
        f"WHERE {counted(row, account)} ON CONFLICT ({MARK_KEY}) DO UPDATE SET visits = visits + excluded.visits; "
        f"INSERT INTO cadre_visit_counts ({COUNT_KEY}, households) SELECT {count_of(row, account)}, {sign} "
        f"WHERE {counted(row, account)} "
        f"AND (SELECT visits FROM cadre_visit_marks WHERE {_is_mark(row, account)}) = {1 if sign > 0 else 0} "
        f"ON CONFLICT ({COUNT_KEY}) DO UPDATE SET households = households + excluded.households; "
        f"DELETE FROM cadre_visit_marks WHERE {_is_mark(row, account)} AND visits = 0;" for account in ACCOUNTS)


SQLITE = [
    f"CREATE TRIGGER cadre_visits_insert AFTER INSERT ON visits WHEN {counted('NEW', '0')} "
    f"BEGIN {_step('NEW', 1)} END",
    f"CREATE TRIGGER cadre_visits_delete AFTER DELETE ON visits WHEN {counted('OLD', '0')} "
    f"BEGIN {_step('OLD', -1)} END",
    f"CREATE TRIGGER cadre_visits_update AFTER UPDATE OF {', '.join(KEPT_BY)} ON visits "
    f"WHEN ({OLD_KEPT}) IS NOT ({NEW_KEPT}) BEGIN {_step('OLD', -1)} {_step('NEW', 1)} END",
]
TRIGGERS = ("cadre_visits_insert", "cadre_visits_delete", "cadre_visits_update", "cadre_visits_truncate")
FUNCTIONS = ("cadre_visits_added", "cadre_visits_removed", "cadre_visits_changed", "cadre_visits_emptied")


def create_triggers() -> None:
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def _offset_seconds() -> int:
    """The city's offset from UTC as stored (its zone is fixed: core.city refuses daylight saving)."""
    value = op.get_bind().execute(sa.text("SELECT value FROM settings WHERE name = 'city'")).scalar()
    timezone = json.loads(value).get("timezone", DEFAULT_TIMEZONE) if value else DEFAULT_TIMEZONE
    return int(ZoneInfo(timezone).utcoffset(dt.datetime(2000, 1, 1)).total_seconds())


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column('visits', sa.Column('visit_month', sa.Integer(), nullable=True))
    op.create_table('cadre_visit_marks',
    sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('household_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('grid_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('region_code', sa.String(length=15), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'account_id', 'household_id', 'grid_id', 'region_code',
                            name=op.f('pk_cadre_visit_marks'))
    )
    op.create_table('cadre_visit_counts',
    sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('grid_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('region_code', sa.String(length=15), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'account_id', 'grid_id', 'region_code', name=op.f('pk_cadre_visit_counts'))
    )
    # backfill and triggers in this one transaction: a visit or household written meanwhile waits, then counts
    seconds = _offset_seconds()
    if postgresql:
        op.execute("LOCK TABLE households, visits IN SHARE MODE")
        op.execute(f"UPDATE visits SET visit_month = CAST(to_char(visited_at + interval '{seconds} seconds', "
                   f"'YYYYMM') AS integer)")
    else:
        op.execute(f"UPDATE visits SET visit_month = CAST(strftime('%Y%m', visited_at, '{seconds:+d} seconds') "
                   f"AS INTEGER)")
    named = [", ".join(f"{value} AS {name}" for value, name in zip(_values("v", account, household=True),
                                                                    MARK_KEY.split(", "))) for account in ACCOUNTS]
    marks = " UNION ALL ".join(f"SELECT {columns} FROM visits AS v WHERE {counted('v', account)}"
                               for columns, account in zip(named, ACCOUNTS))
    op.execute(f"INSERT INTO cadre_visit_marks ({MARK_KEY}, visits) "
               f"SELECT {MARK_KEY}, count(*) FROM ({marks}) AS marked GROUP BY {MARK_KEY}")
    op.execute(f"INSERT INTO cadre_visit_counts ({COUNT_KEY}, households) "
               f"SELECT {COUNT_KEY}, count(*) FROM cadre_visit_marks GROUP BY {COUNT_KEY}")
    create_triggers()
    op.create_index('ix_visits_cadre_without_month', 'visits', ['visited_at'], unique=False,
                    postgresql_where=sa.text(WITHOUT_MONTH), sqlite_where=sa.text(WITHOUT_MONTH))


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.drop_index('ix_visits_cadre_without_month', table_name='visits')
    for name in TRIGGERS if postgresql else TRIGGERS[:3]:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON visits" if postgresql else ""))
    if postgresql:
        for name in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table('cadre_visit_counts')
    op.drop_table('cadre_visit_marks')
    # not batch_alter_table: on SQLite its copy of the table would drop migration 0038's triggers (SQLite drops a
    # column itself since 3.35, once no index or trigger names it)
    op.execute("ALTER TABLE visits DROP COLUMN visit_month")
