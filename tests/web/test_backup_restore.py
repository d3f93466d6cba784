"""`minqing backup` / `minqing restore` on the database under test (SQLite, or PostgreSQL when the suite runs on
it): real data through the API, a backup, changes and deletions, a restore, and every table compared row by row."""
from __future__ import annotations

import sqlite3
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update

from minqing.core.accounts import apikeys
from minqing.core.ops import backup
from minqing.core.actors import system_actor
from minqing.core.cli import build_cli
from minqing.core.db import Database
from minqing.core.models import Account, AuditRecord, Base, Case, Unit

from tests.fixtures.api import hotline, report, street_vending

RESTORE_ACTIONS = {"database.restore"}


def minqing(url: str, *arguments: str):
    return CliRunner().invoke(build_cli(), ["--db", url, *arguments], catch_exceptions=False)


def snapshot(platform) -> dict[str, list[tuple]]:
    """Every row of every table of the models, in primary-key order."""
    rows = {}
    with platform.db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [tuple(row) for row in connection.execute(select(table).order_by(*order))]
    return rows


@pytest.fixture
def city(platform, world, api, base_data, tmp_path, monkeypatch):  # noqa: F811
    """Cases through the API (one with a photo, taken through several steps), keys, base data, audit records."""
    monkeypatch.setenv("MINQING_UPLOAD_DIR", str(tmp_path / "uploads"))
    first = report(api, "worker", street_vending(**{"details.photos": [api("worker").upload()]}))
    station = api("station")
    station.post(f"/cases/{first['id']}/transitions/accept", {"comment": "受理"})
    station.post(f"/cases/{first['id']}/transitions/dispatch", {"department": "urban_management"})
    report(api, "other_worker", hotline(title="酒泉路井盖缺失"))
    return first


def test_round_trip_restores_every_table_row_by_row(platform, city, database_url, tmp_path):
    before = snapshot(platform)
    assert sum(1 for rows in before.values() if rows) >= 15, "the round trip must carry real data"
    file = tmp_path / "minqing.backup"
    result = minqing(database_url, "backup", str(file))
    assert result.exit_code == 0, result.output
    assert file.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only

    with platform.db.session() as session:  # the things people do after the backup ...
        session.execute(update(Case).where(Case.id == city["id"]).values(title="改过的标题"))
        session.execute(delete(Unit))
        session.add(Account(username="newcomer", display_name="新来的"))
        apikeys.create(session, system_actor("test"), "admin", "after the backup")
    assert snapshot(platform) != before

    refused = minqing(database_url, "restore", str(file))
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert snapshot(platform)["accounts"] != before["accounts"]  # ... and a refused restore changed nothing

    restored = minqing(database_url, "restore", "--yes", str(file))
    assert restored.exit_code == 0, restored.output
    assert "已从" in restored.output
    platform.db.dispose()  # the restore replaced the tables under the pool's connections
    after = snapshot(platform)
    for table in Base.metadata.sorted_tables:
        if table.name == "audit_log":  # the same records, then the restore's own
            assert after[table.name][:len(before[table.name])] == before[table.name]
            extra = after[table.name][len(before[table.name]):]
            assert {row[list(table.columns.keys()).index("action")] for row in extra} == RESTORE_ACTIONS
        elif table.name == "audit_chain":  # the chain's head moved on by the restore's own records, no further
            names = list(table.columns.keys())
            extra = len(after["audit_log"]) - len(before["audit_log"])
            (old_head,), (new_head,) = before[table.name], after[table.name]
            assert new_head[names.index("last_seq")] == old_head[names.index("last_seq")] + extra
            assert [value for name, value in zip(names, new_head) if not name.startswith("last_")] \
                == [value for name, value in zip(names, old_head) if not name.startswith("last_")]
        elif table.name == "change_counters":  # moved past every value a running process may have cached
            names = list(table.columns.keys())
            old = {row[names.index("name")]: row[names.index("value")] for row in before[table.name]}
            new = {row[names.index("name")]: row[names.index("value")] for row in after[table.name]}
            assert set(new) == set(old) and all(new[name] > old[name] for name in old)
        else:
            assert after[table.name] == before[table.name], table.name
    with platform.db.session() as session:
        assert session.scalar(select(Case.title).where(Case.id == city["id"])) == "张掖路夜市占道"
        assert session.scalar(select(AuditRecord.action).order_by(AuditRecord.id.desc()).limit(1)) \
            == "database.restore"


def test_restore_refuses_what_is_not_a_backup_of_this_kind(platform, world, database_url, tmp_path):
    fake = tmp_path / "photo.backup"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"<html>" * 10)
    answer = minqing(database_url, "restore", "--yes", str(fake))
    assert answer.exit_code != 0 and "不是民情地图的备份文件" in answer.output

    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    answer = minqing(f"sqlite:///{tmp_path / 'target.db'}", "restore", str(foreign))
    assert answer.exit_code != 0 and "alembic_version" in answer.output

    other_kind = tmp_path / "pg.backup"
    other_kind.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(64))
    sqlite_url = f"sqlite:///{tmp_path / 'target.db'}"
    if backup.url_kind(database_url) == "postgresql":  # a real SQLite backup onto PostgreSQL
        other_kind, target = tmp_path / "lite.backup", database_url
        assert minqing(sqlite_url, "upgrade").exit_code == 0
        assert minqing(sqlite_url, "backup", str(other_kind)).exit_code == 0
    else:
        target = sqlite_url
    answer = minqing(target, "restore", "--yes", str(other_kind))
    assert answer.exit_code != 0 and "不能恢复到" in answer.output
    with platform.db.session() as session:  # the database under test was not touched
        assert session.scalar(select(Account.id).where(Account.username == "admin")) is not None


def test_a_backup_of_an_older_schema_is_restored_and_upgraded(tmp_path):
    from alembic import command

    from minqing.core.db import alembic_config

    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    with old.engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
    old.dispose()
    file = tmp_path / "old.backup"
    assert minqing(old.url, "backup", str(file)).exit_code == 0
    assert backup.backup_revision(file) == ("sqlite", "0006")
    target = f"sqlite:///{tmp_path / 'new.db'}"
    answer = minqing(target, "restore", str(file))
    assert answer.exit_code == 0, answer.output
    head = backup.known_revisions()[1]
    assert "0006" in answer.output and f"升级到 {head}" in answer.output
    with sqlite3.connect(tmp_path / "new.db") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (head,)


def test_a_sqlite_backup_is_one_snapshot_while_the_application_writes(tmp_path):
    """Writers commit all through the copy (as a busy web app does): the backup never restarts, finishes, and holds
    exactly the rows of one moment."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    database = Database(url)  # WAL mode, as the application opens it
    database.upgrade()
    database.dispose()
    with sqlite3.connect(tmp_path / "busy.db") as connection:
        connection.execute("CREATE TABLE readings (value BLOB)")
        connection.executemany("INSERT INTO readings VALUES (?)", [(bytes(200),)] * 30_000)
    stop, written = threading.Event(), []

    def application():
        connection = sqlite3.connect(tmp_path / "busy.db", timeout=15)
        while not stop.is_set():
            connection.execute("INSERT INTO readings VALUES (?)", (bytes(200),))
            connection.commit()
            written.append(1)
        connection.close()

    seen = []

    def progress(done, total):
        assert not seen or done >= seen[-1], "the copy restarted"
        seen.append(done)
        stop.wait(0.005)  # give the writer time between steps

    writer = threading.Thread(target=application)
    writer.start()
    try:
        backup.sqlite_backup(url, tmp_path / "busy.backup", progress)
    finally:
        stop.set()
        writer.join()
    assert len(seen) > 3 and written, "the copy took several steps while the application wrote"
    with sqlite3.connect(tmp_path / "busy.backup") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = copy.execute("SELECT count(*) FROM readings").fetchone()[0]
    assert 30_000 <= rows < 30_000 + len(written)
