"""The nightly backup run by `minqing beat`: on the suite's database (SQLite, or PostgreSQL when
MINQING_DATABASE_URL says so) it writes a real backup, owner-only, that `minqing restore` puts back; once a day
only; and it keeps the newest MINQING_BACKUP_KEEP, touching no other file."""
from __future__ import annotations

import datetime as dt
import stat

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from minqing.core.ops import backup_plugin
from minqing.core.ops.backup import BackupError
from minqing.core.cli import build_cli
from minqing.core.models import Account, AuditRecord
from minqing.core.pluginhost.host import PluginHost
from minqing.workflows.tasks import run_periodic, schedule

CITY = dt.timezone(dt.timedelta(hours=8))


def at(day: int, hour: int, minute: int = 30) -> dt.datetime:
    """A moment in city time (Asia/Shanghai), as UTC like the platform's clock."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=CITY).astimezone(dt.timezone.utc)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    path = tmp_path / "backups"
    monkeypatch.setenv("MINQING_BACKUP_DIR", str(path))
    monkeypatch.delenv("MINQING_BACKUP_KEEP", raising=False)
    monkeypatch.delenv("MINQING_BACKUP_HOUR", raising=False)
    return path


def usernames(platform) -> list[str]:
    with platform.db.session() as session:
        return session.scalars(select(Account.username).order_by(Account.username)).all()


def test_minqing_beat_schedules_the_nightly_backup():
    entry = schedule(PluginHost(None))["backup.nightly"]  # what Celery beat loads at start
    assert entry == {"task": "minqing.periodic", "schedule": 3600.0, "args": ("backup.nightly",)}
    assert PluginHost(None).is_required("backup")


def test_the_nightly_backup_is_one_a_day_owner_only_and_restore_accepts_it(platform, database_url, folder):
    with platform.db.session() as session:
        session.add(Account(username="before_backup", display_name="备份前"))
    assert backup_plugin.run_nightly(platform, now=at(6, 1)) is None  # before 02:00 city time: not yet
    made = backup_plugin.run_nightly(platform, now=at(6, 2))
    assert made is not None and made.parent == folder and made.name.startswith("minqing-20261206-0230")
    assert stat.S_IMODE(made.stat().st_mode) == 0o600 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert backup_plugin.run_nightly(platform, now=at(6, 23)) is None  # once a day: a second run is harmless
    assert backup_plugin.backups_in(folder) == [made]
    with platform.db.session() as session:
        assert session.scalar(select(AuditRecord).where(AuditRecord.action == "database.backup")) is not None
        session.add(Account(username="after_backup", display_name="备份后"))

    restored = CliRunner().invoke(build_cli(), ["--db", database_url, "restore", "--yes", str(made)],
                                  catch_exceptions=False)
    assert restored.exit_code == 0, restored.output
    platform.db.dispose()  # the restore replaced the tables under the pool's connections
    assert usernames(platform) == ["before_backup"]


def test_retention_keeps_the_newest_and_touches_no_other_file(platform, folder, monkeypatch):
    monkeypatch.setenv("MINQING_BACKUP_KEEP", "3")
    folder.mkdir()
    (folder / "notes.txt").write_text("kept")
    (folder / "minqing-manual.sqlite").write_text("kept: not a scheduled name")
    made = [backup_plugin.run_nightly(platform, now=at(day, 3)) for day in range(1, 6)]
    assert all(made)
    assert backup_plugin.backups_in(folder) == made[-3:]
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [path.name for path in made[-3:]] + ["minqing-manual.sqlite", "notes.txt"])


def test_the_worker_runs_it_by_name_and_bad_settings_are_refused_in_chinese(platform, folder, monkeypatch):
    monkeypatch.setenv("MINQING_BACKUP_HOUR", "0")  # due at any hour
    assert run_periodic(platform, "backup.nightly")  # what `minqing.periodic` runs on a worker
    assert len(backup_plugin.backups_in(folder)) == 1
    monkeypatch.setenv("MINQING_BACKUP_KEEP", "0")
    with pytest.raises(BackupError, match="MINQING_BACKUP_KEEP 应为 1 到 10000 之间的整数"):
        backup_plugin.settings()
