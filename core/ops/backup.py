"""`minqing backup FILE` and `minqing restore FILE`: a consistent copy of the whole database, and putting one back.

SQLite is copied page by page with SQLite's online backup API (`sqlite3.Connection.backup`): readers and writers
of the running application may go on meanwhile (WAL mode) and the copy is one consistent snapshot. PostgreSQL goes
through `pg_dump --format=custom` and `pg_restore --clean --if-exists --single-transaction`. Connection details
reach the client tools as a quoted libpq connection string and the password through PGPASSWORD — never through a
shell, never on a command line another user can read.

A restore checks before it touches anything: the file must be a backup by its content (the SQLite header or the
custom-format magic `PGDMP`), of the same kind of database as the target, of a Minqing schema this version knows
(its Alembic revision), and a database that holds data is only replaced with `confirm=True` (`--yes`). After the
restore the schema is brought to the newest revision and the change counters moved past every value a running
process may have cached, so web processes and workers rebuild their caches from the restored data.
"""
from __future__ import annotations

import dataclasses
import os
import re
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import MetaData, Table, create_engine, exists, inspect, select, update
from sqlalchemy.engine import URL, make_url

from minqing.core.actors import system_actor
from minqing.core.changes import record_change
from minqing.core.db import Database, alembic_config, is_sqlite
from minqing.core.ops.private_files import private_sqlite_file

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
SQLITE_PAGES_PER_STEP = 256
ALEMBIC_TABLE = "alembic_version"
COUNTERS_TABLE = "change_counters"
# libpq's environment names for query parameters a SQLAlchemy URL may carry.
LIBPQ_PARAMETERS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name",
                    "target_session_attrs", "options")

Progress = Callable[[int, int], None]  # (done, total): the caller draws the bar


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in Chinese."""


@dataclasses.dataclass
class RestoreResult:
    revision: str        # the schema revision the backup was taken at
    head: str            # the revision the database is at now
    kind: str            # "sqlite" or "postgresql"

    @property
    def upgraded(self) -> bool:
        return self.revision != self.head


# -- what a file and a database are ------------------------------------------------------------------------------

def file_kind(path: Path) -> str:
    """'sqlite' or 'postgresql' by the file's first bytes; BackupError for anything else."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise BackupError(f"无法读取备份文件 {path}：{error.strerror or error}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} 不是民情地图的备份文件（既不是 SQLite 数据库，也不是 pg_dump 自定义格式）")


def url_kind(url: str) -> str:
    if is_sqlite(url):
        return "sqlite"
    if make_url(url).get_backend_name() == "postgresql":
        return "postgresql"
    raise BackupError(f"不支持备份此类数据库：{make_url(url).get_backend_name()}")


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("内存中的 SQLite 数据库无法备份或恢复，请使用数据库文件")
    return Path(database)


def known_revisions() -> tuple[set[str], str]:
    """Every Alembic revision of this version of Minqing, and the newest one."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {revision.revision for revision in script.walk_revisions()}, script.get_current_head()


def check_revision(revision: str | None, what: str) -> str:
    revisions, _head = known_revisions()
    if not revision:
        raise BackupError(f"{what} 中没有数据库结构版本（alembic_version），不是民情地图的备份")
    if revision not in revisions:
        raise BackupError(f"{what} 的数据库结构版本 {revision} 不为本程序所知（可能来自更新的版本），已拒绝恢复")
    return revision


def _reflected(engine) -> MetaData:
    metadata = MetaData()
    metadata.reflect(engine)
    return metadata


def holds_data(engine) -> bool:
    """Whether any table (other than the schema version) has a row."""
    metadata = _reflected(engine)
    with engine.connect() as connection:
        return any(connection.scalar(select(exists().select_from(table)))
                   for name, table in metadata.tables.items() if name != ALEMBIC_TABLE)


def _counter_values(engine) -> dict[str, int]:
    if COUNTERS_TABLE not in inspect(engine).get_table_names():
        return {}
    table = Table(COUNTERS_TABLE, MetaData(), autoload_with=engine)
    with engine.connect() as connection:
        return {name: value for name, value in connection.execute(select(table.c.name, table.c.value))}


def _move_counters_past(engine, before: dict[str, int]) -> None:
    """Each counter to more than both its restored value and the value before the restore: every process that
    cached something under an old value sees a new one."""
    table = Table(COUNTERS_TABLE, MetaData(), autoload_with=engine)
    restored = _counter_values(engine)
    with engine.begin() as connection:
        for name, value in restored.items():
            connection.execute(update(table).where(table.c.name == name)
                               .values(value=max(value, before.get(name, 0)) + 1))


# -- SQLite ------------------------------------------------------------------------------------------------------

def _sqlite_copy(source: sqlite3.Connection, target: sqlite3.Connection, progress: Progress | None) -> None:
    def step(_status, remaining, total):
        if progress:
            progress(total - remaining, total)

    source.backup(target, pages=SQLITE_PAGES_PER_STEP, progress=step)


def sqlite_backup(url: str, destination: Path, progress: Progress | None = None) -> None:
    source_path = sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"数据库文件不存在：{source_path}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=".minqing-backup-", dir=destination.parent)
    os.close(handle)
    try:
        source = sqlite3.connect(source_path, timeout=15, isolation_level=None)
        target = sqlite3.connect(partial)
        try:
            # A read transaction pins one WAL snapshot for the whole copy. Without it, every commit of the running
            # application restarts a step-wise backup, which under steady writes never finishes; with it the
            # writers go on (WAL readers block no one) and the copy is that snapshot.
            source.execute("BEGIN")
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
            _sqlite_copy(source, target, progress)
            source.execute("COMMIT")
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            target.close()
            source.close()
        os.chmod(partial, 0o600)  # the backup holds residents' personal data
        os.replace(partial, destination)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def sqlite_backup_revision(path: Path) -> str | None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"备份文件 {path} 已损坏（SQLite 完整性检查未通过）")
            row = connection.execute(f"SELECT version_num FROM {ALEMBIC_TABLE}").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        if "no such table" in str(error):
            return None
        raise BackupError(f"备份文件 {path} 无法读取：{error}") from None
    return row[0] if row else None


def sqlite_restore(path: Path, url: str, progress: Progress | None = None) -> None:
    target_path = sqlite_path(url)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    private_sqlite_file(target_path)   # the live database holds residents' personal data: 0600, -wal/-shm too
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = sqlite3.connect(target_path, timeout=15)
    try:
        _sqlite_copy(source, target, progress)
    except sqlite3.Error as error:
        raise BackupError(f"恢复失败，目标数据库未改动：{error}") from None
    finally:
        target.close()
        source.close()


# -- PostgreSQL --------------------------------------------------------------------------------------------------

def _quoted(value) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_connection(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string with every value quoted, and the environment carrying the password."""
    parsed: URL = make_url(url)
    parts = {"host": parsed.host, "port": parsed.port, "user": parsed.username, "dbname": parsed.database}
    query = dict(parsed.query)
    if not parts["host"] and query.get("host"):
        parts["host"] = query["host"]  # a Unix socket directory given as ?host=
    parts.update({name: query[name] for name in LIBPQ_PARAMETERS if isinstance(query.get(name), str)})
    conninfo = " ".join(f"{name}={_quoted(value)}" for name, value in parts.items() if value not in (None, ""))
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return conninfo, env


def _run_tool(arguments: list[str], env: dict[str, str], marker: re.Pattern | None = None,
              on_item: Callable[[], None] | None = None) -> str:
    """Run pg_dump/pg_restore (no shell). Without `marker`, return its output; with one, call `on_item` for each
    line of its verbose log that matches (the progress) and return ''."""
    try:
        if marker is None:
            finished = subprocess.run(arguments, capture_output=True, env=env, text=True)
            returncode, log, output = finished.returncode, finished.stderr.splitlines(), finished.stdout
        else:
            log, output = [], ""
            with subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                                  text=True) as process:
                for line in process.stderr:
                    if marker.search(line) and on_item:
                        on_item()
                    log.append(line)
            returncode = process.returncode
    except FileNotFoundError:
        raise BackupError(f"找不到 {arguments[0]}：请安装 PostgreSQL 客户端工具（postgresql-client）") from None
    if returncode != 0:
        problems = [line.strip() for line in log if "error" in line.lower() or "fatal" in line.lower()]
        detail = "；".join(problems[-3:]) or f"退出码 {returncode}"
        raise BackupError(f"{Path(arguments[0]).name} 失败：{detail}")
    return output


def _table_count(engine) -> int:
    return len(inspect(engine).get_table_names())


def postgres_backup(url: str, destination: Path, progress: Progress | None = None) -> None:
    conninfo, env = libpq_connection(url)
    engine = create_engine(url)
    try:
        total = _table_count(engine)
    finally:
        engine.dispose()
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=".minqing-backup-", dir=destination.parent)
    os.close(handle)
    done = [0]

    def one_table():
        done[0] += 1
        if progress:
            progress(min(done[0], total), total)

    try:
        _run_tool(["pg_dump", "--format=custom", "--verbose", "--no-password", f"--file={partial}",
                   f"--dbname={conninfo}"], env, re.compile(r"dumping contents of table"), one_table)
        os.chmod(partial, 0o600)
        os.replace(partial, destination)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def dump_tables(path: Path, env: dict[str, str]) -> set[str]:
    """The tables whose data a custom-format dump holds (from its table of contents)."""
    listing = _run_tool(["pg_restore", "--list", str(path)], env)
    return {match.group(1) for match in re.finditer(r"TABLE DATA \S+ (\S+) ", listing)}


def postgres_backup_revision(path: Path, env: dict[str, str]) -> str | None:
    script = _run_tool(["pg_restore", "--data-only", f"--table={ALEMBIC_TABLE}", "--file=-", str(path)], env)
    match = re.search(r"COPY \S*alembic_version \(version_num\) FROM stdin;\n([^\n\\]+)\n", script)
    return match.group(1).strip() if match else None


def postgres_restore(path: Path, url: str, progress: Progress | None = None) -> None:
    conninfo, env = libpq_connection(url)
    in_dump = dump_tables(path, env)
    engine = create_engine(url)
    try:
        leftovers = set(inspect(engine).get_table_names()) - in_dump
    finally:
        engine.dispose()
    done = [0]

    def one_table():
        done[0] += 1
        if progress:
            progress(min(done[0], len(in_dump)), len(in_dump))

    _run_tool(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
               "--exit-on-error", "--verbose", "--no-password", f"--dbname={conninfo}", str(path)], env,
              re.compile(r"processing data for table"), one_table)
    if leftovers:  # tables the backup did not have (a newer schema): the database becomes exactly the backup
        engine = create_engine(url)
        try:
            metadata = MetaData()
            metadata.reflect(engine, only=sorted(leftovers))
            metadata.drop_all(engine)
        finally:
            engine.dispose()


# -- the two commands --------------------------------------------------------------------------------------------

def backup(url: str, destination: Path, progress: Progress | None = None) -> str:
    """Copy the database at `url` into `destination`; return its kind."""
    kind = url_kind(url)
    (sqlite_backup if kind == "sqlite" else postgres_backup)(url, Path(destination), progress)
    _record(url, "database.backup", f"备份数据库到 {Path(destination).name}")
    return kind


def backup_revision(path: Path) -> tuple[str, str]:
    """The kind and the checked schema revision of a backup file (BackupError if it is not one we can restore)."""
    kind = file_kind(path)
    if kind == "sqlite":
        revision = sqlite_backup_revision(path)
    else:
        revision = postgres_backup_revision(path, libpq_connection("postgresql://")[1])
    return kind, check_revision(revision, str(path))


def restore(url: str, source: Path, *, confirm: bool = False, progress: Progress | None = None) -> RestoreResult:
    """Replace the database at `url` by the backup in `source`, after every check described above."""
    source = Path(source)
    kind, target_kind = file_kind(source), url_kind(url)
    if kind != target_kind:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise BackupError(f"备份是 {names[kind]} 数据库，不能恢复到 {names[target_kind]} 数据库")
    kind, revision = backup_revision(source)
    engine = create_engine(url)
    try:
        if not confirm and holds_data(engine):
            raise BackupError("目标数据库中已有数据，恢复将替换全部内容；确认无误请加 --yes")
        counters_before = _counter_values(engine)
    finally:
        engine.dispose()
    (sqlite_restore if kind == "sqlite" else postgres_restore)(source, url, progress)
    database = Database(url)
    try:
        if (restored := _current_revision(database)) != revision:
            raise BackupError(f"恢复后的数据库结构版本 {restored} 与备份中的 {revision} 不符，请检查备份文件")
        database.upgrade()
        _move_counters_past(database.engine, counters_before)
        head = _current_revision(database)
    finally:
        database.dispose()
    _record(url, "database.restore", f"从备份 {source.name} 恢复数据库（结构版本 {revision}）")
    return RestoreResult(revision=revision, head=head, kind=kind)


def _current_revision(database: Database) -> str:
    table = Table(ALEMBIC_TABLE, MetaData(), autoload_with=database.engine)
    with database.engine.connect() as connection:
        return connection.scalar(select(table.c.version_num))


def _record(url: str, action: str, summary: str) -> None:
    """The audit record of a backup or restore, when the database is at this version's schema."""
    database = Database(url)
    try:
        if ALEMBIC_TABLE not in inspect(database.engine).get_table_names() \
                or _current_revision(database) != known_revisions()[1]:
            return
        with database.session() as session:
            record_change(session, system_actor("cli"), action, object_type="database", summary=summary)
    finally:
        database.dispose()
