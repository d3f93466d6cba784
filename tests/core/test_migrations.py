"""The Alembic migrations create exactly the schema the models describe, on SQLite and PostgreSQL."""
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from minqing.core.db import Database, alembic_config
from minqing.core.models import Base


def test_migrations_match_models(database_url):
    database = Database(database_url)
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    database.dispose()
    assert differences == []


# The database keeps counts and follows moved households with triggers (migrations 0008, 0031, 0035, 0038, 0040,
# 0043), and gives each milestone its case's time (0044).
# On SQLite, `batch_alter_table` rebuilds a table without its triggers, so a later migration that alters one of
# these tables that way would silently stop the counts: head must have every one (a new trigger is added here).
TRIGGERS = {
    "case_milestones": {"case_milestones_case_time"},
    "cases": {"cases_time_to_milestones"},
    "visits": {"cadre_last_visits_delete", "cadre_last_visits_insert", "cadre_last_visits_update",
               "cadre_visits_delete", "cadre_visits_insert", "cadre_visits_update", "visits_household_place_insert",
               "visits_household_place_update"},
    "households": {"household_counts_delete", "household_counts_insert", "household_counts_update",
                   "practical_matters_follow_household", "visits_follow_household", "visits_household_delete",
                   "visits_household_insert"},
}
POSTGRESQL_TRIGGERS = {   # statement triggers SQLite has no form of, and the audit log's append-only guard
    "visits": {"cadre_last_visits_truncate", "cadre_visits_truncate"},
    "households": {"household_counts_truncate", "visits_household_truncate"},
    "audit_log": {"audit_log_append_only", "audit_log_keep_184_days"},
}


def triggers(engine) -> dict[str, set[str]]:
    if engine.dialect.name == "postgresql":
        query = "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        query = "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"
    found: dict[str, set[str]] = {}
    with engine.connect() as connection:
        for table, name in connection.execute(text(query)):
            found.setdefault(table, set()).add(name)
    return found


def expected_triggers(dialect: str) -> dict[str, set[str]]:
    if dialect != "postgresql":
        return TRIGGERS
    return {table: TRIGGERS.get(table, set()) | POSTGRESQL_TRIGGERS.get(table, set())
            for table in {*TRIGGERS, *POSTGRESQL_TRIGGERS}}


def test_every_trigger_that_keeps_counts_is_there_at_head(database_url):
    database = Database(database_url)
    try:
        assert triggers(database.engine) == expected_triggers(database.engine.dialect.name)
    finally:
        database.dispose()


def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_downgrade_and_upgrade_again(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'roundtrip.db'}")
    database.upgrade()
    with database.engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(database.engine).get_table_names()) == {"alembic_version"}
    database.upgrade()
    assert {"cases", "grids", "regions", "residents"} <= set(inspect(database.engine).get_table_names())
    assert triggers(database.engine) == TRIGGERS
    database.dispose()
