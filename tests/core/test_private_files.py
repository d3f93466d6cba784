"""Restored databases and CLI exports hold residents' personal data: 0600 whatever the umask (as backups)."""
from __future__ import annotations

import os
import stat

import pytest
from click.testing import CliRunner

from minqing.core.ops import exporting
from minqing.core.actors import system_actor
from minqing.core.cli import build_cli
from minqing.core.db import Database


@pytest.fixture
def usual_umask():
    previous = os.umask(0o022)   # the usual one, under which files were created 0644
    yield
    os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_an_export_written_to_a_file_is_private(platform, tmp_path, usual_umask):
    for fmt in ("csv", "xlsx"):
        path = tmp_path / f"cases.{fmt}"
        with platform.db.session() as session, open(path, "wb") as stream:
            exporting.export_cases(session, system_actor("test"), stream, fmt=fmt, file_name=path.name)
        assert mode(path) == 0o600, fmt


def test_a_restored_sqlite_database_is_private(tmp_path, usual_umask):
    source = Database(f"sqlite:///{tmp_path / 'live.db'}")
    source.upgrade()
    source.dispose()
    backup_file = tmp_path / "live.backup"
    run = lambda url, *args: CliRunner().invoke(build_cli(), ["--db", url, *args], catch_exceptions=False)  # noqa
    assert run(source.url, "backup", str(backup_file)).exit_code == 0
    target = tmp_path / "restored.db"
    answer = run(f"sqlite:///{target}", "restore", str(backup_file))
    assert answer.exit_code == 0, answer.output
    assert mode(target) == 0o600
    for companion in (tmp_path / "restored.db-wal", tmp_path / "restored.db-shm"):
        assert not companion.exists() or mode(companion) == 0o600


def test_the_live_sqlite_database_is_created_readable_by_its_owner_only(tmp_path):
    import os
    import stat

    from minqing.core.db import Database

    old = os.umask(0o022)
    try:
        database = Database(f"sqlite:///{tmp_path / 'city.db'}")
        database.upgrade()
        database.dispose()
    finally:
        os.umask(old)
    for path in tmp_path.glob("city.db*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
