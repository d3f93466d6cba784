"""The database: engine, sessions and schema migrations. No other module opens connections.

SQLite is the embedded default (WAL mode, a busy timeout, foreign keys on); PostgreSQL is the production engine.
The URL comes from the caller, else `MINQING_DATABASE_URL`, else `sqlite:///minqing.db`.

Transactions on SQLite. pysqlite's own transaction handling emits no BEGIN before a SAVEPOINT, so a savepoint opened
first became the whole transaction and its RELEASE committed it: a case stored in `begin_nested()` was durable before
its timeline, deadline and audit record (a kill in between left half a report). We therefore take transactions away
from pysqlite (`isolation_level = None`) and emit BEGIN ourselves, after SQLAlchemy's documented recipe for pysqlite
("Serializable isolation / Savepoints / Transactional DDL"), with one choice of ours: the BEGIN is
`BEGIN IMMEDIATE`, emitted just before a transaction's first statement that may write (anything but SELECT, PRAGMA
or EXPLAIN: an INSERT, UPDATE, DELETE, DDL or SAVEPOINT).

- From its first write on, a transaction is one atomic unit, savepoints included.
- IMMEDIATE takes SQLite's write lock at BEGIN, where the busy timeout makes a writer queue. A deferred BEGIN whose
  reads later turn into a write fails with SQLITE_BUSY_SNAPSHOT whenever another writer committed in between, and no
  busy timeout retries that.
- Reads before a transaction's first write run outside it, as under pysqlite: readers never queue behind a writer,
  and a short session opened for a read (plugin switches, counters) while another session holds the write lock does
  not wait for it. What a writer reads before its first write is not isolated; rows that writers race for carry a
  version column (cases) or a unique key (client ids, idempotency keys).

PostgreSQL needs none of this: its driver begins transactions and savepoints correctly.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///minqing.db"
SQLITE_BUSY_TIMEOUT_MS = 15_000


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("MINQING_DATABASE_URL") or DEFAULT_URL


def is_sqlite(url_or_engine) -> bool:
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else str(url_or_engine)
    return str(url).startswith("sqlite")


_READ_ONLY_STATEMENTS = ("SELECT", "PRAGMA", "EXPLAIN")


def make_engine(url: str, **pool_options) -> Engine:
    """The engine for `url`; `pool_options` (pool_size, max_overflow, pool_timeout) override the defaults."""
    if is_sqlite(url):
        _private_database_file(url)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                                  "check_same_thread": False}, **pool_options)
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "before_cursor_execute", _sqlite_begin_before_first_write)
        return engine
    engine = create_engine(url, **{"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20, **pool_options})
    event.listen(engine, "connect", _plan_for_the_values)
    return engine


def _plan_for_the_values(dbapi_connection, _record) -> None:
    """PostgreSQL plans every statement for its values (`plan_cache_mode = force_custom_plan`). psycopg prepares a
    statement once it has run five times, and PostgreSQL then switches to a generic plan whenever that plan's
    estimate is not worse, which without the values is blind to skew: a theme layer's count planned for "a box of
    a few rows" scanned the whole city's point index (3.9–4.6 s at a city's year, against 5–60 ms planned for the
    values), and a long-running worker reaches that state on every repeated page. Planning costs tens of
    microseconds a statement; the parse is still prepared once."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_custom_plan")
    dbapi_connection.commit()


def _private_database_file(url: str) -> None:
    """The live database holds residents' ID numbers: readable by the platform's own user only (0600, and its -wal
    and -shm files with it), whatever the umask. A folder that does not exist is left for SQLite to refuse."""
    from sqlalchemy.engine import make_url

    from minqing.core.ops.private_files import private_sqlite_file

    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    if path.parent.is_dir():
        private_sqlite_file(path)


def _tune_sqlite(dbapi_connection, _record) -> None:
    # We emit BEGIN ourselves (module docstring); pysqlite must not begin or commit on its own.
    dbapi_connection.isolation_level = None
    # WAL lets the web UI read while a worker writes; the busy timeout makes writers queue instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_before_first_write(connection, cursor, statement, _parameters, _context, _executemany) -> None:
    """Before a transaction's first statement that may write: BEGIN IMMEDIATE (module docstring). Only inside a
    transaction SQLAlchemy began; a connection in autocommit (`isolation_level="AUTOCOMMIT"`) is left alone."""
    if not connection.in_transaction() or connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    dbapi_connection = cursor.connection
    if dbapi_connection.in_transaction or statement.lstrip()[:7].upper().startswith(_READ_ONLY_STATEMENTS):
        return
    dbapi_connection.execute("BEGIN IMMEDIATE")


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str | None = None):
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed when the block ends and rolled back when it raises."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> None:
        """Ask the database for `SELECT 1` on a connection of its own; raises whatever keeps it from answering."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from alembic import command

        with self.engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def reset(self) -> None:
        """Drop every table (the data is gone) and create the newest schema again."""
        from sqlalchemy import MetaData

        metadata = MetaData()
        metadata.reflect(self.engine)
        metadata.drop_all(self.engine)
        # a new engine: what processes cache by engine (the secret key, the city, the theme versions) belongs to
        # the data just dropped, and the change counters start again at 0, so a cached generation could match
        self.engine.dispose()
        self.engine = make_engine(self.url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.upgrade()

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config
