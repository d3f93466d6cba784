"""The nightly backup: `minqing beat` asks every hour, and the first ask at or after MINQING_BACKUP_HOUR (city time,
default 2) of a day with no backup yet makes one with `core.backup`, then prunes the oldest beyond
MINQING_BACKUP_KEEP (default 14). Files go to MINQING_BACKUP_DIR (default ./instance/backups, made readable by its
owner only), named `minqing-YYYYMMDD-HHMMSS.sqlite` or `.pgdump` in city time; only files named so are ever pruned.

Scheduled like every plugin's periodic work (`periodic_tasks`), so Celery beat and the embedded scheduler both run
it. Registered through the `minqing.plugins` entry points; required, so it cannot be switched off by accident.
Running it twice is harmless: a day that has its backup is skipped.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import re
from pathlib import Path

from minqing.core.ops import backup
from minqing.core.clock import local_time
from minqing.core.hooks import hookimpl
from minqing.core.models import utcnow

MINQING_TITLE = "夜间备份"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "每晚自动备份数据库并按保留份数清理旧备份。"

MINQING_REQUIRED = True  # a deployment without backups finds out on the day it needs one
CHECK_EVERY = 3600.0
EXTENSIONS = {"sqlite": "sqlite", "postgresql": "pgdump"}
NAME = re.compile(r"^minqing-(\d{8})-(\d{6})\.(sqlite|pgdump)$")
log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Settings:
    directory: Path
    keep: int
    hour: int


def _whole_number(name: str, default: int, low: int, high: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise backup.BackupError(f"{name} 应为 {low} 到 {high} 之间的整数，现为“{text}”")
    return int(text)


def settings() -> Settings:
    """The schedule's settings from the environment (BackupError, in Chinese, for a value out of range)."""
    directory = Path(os.environ.get("MINQING_BACKUP_DIR") or Path.cwd() / "instance" / "backups")
    return Settings(directory=directory, keep=_whole_number("MINQING_BACKUP_KEEP", 14, 1, 10_000),
                    hour=_whole_number("MINQING_BACKUP_HOUR", 2, 0, 23))


def backups_in(directory: Path) -> list[Path]:
    """The scheduled backups in `directory`, oldest first (their names sort by time)."""
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if NAME.match(path.name) and path.is_file())


def prune(directory: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` scheduled backups; return what was removed."""
    removed = backups_in(directory)[:-keep] if keep > 0 else []
    for path in removed:
        path.unlink(missing_ok=True)
        log.info("removed old backup %s (keeping the newest %d)", path.name, keep)
    return removed


def run_nightly(platform, now: dt.datetime | None = None) -> Path | None:
    """Make today's backup if it is due and not made yet, then prune; return the new file, or None."""
    config = settings()
    local = local_time(now or utcnow())
    day = f"{local:%Y%m%d}"
    if local.hour < config.hour or any(NAME.match(path.name)[1] == day for path in backups_in(config.directory)):
        return None
    config.directory.mkdir(parents=True, exist_ok=True)
    os.chmod(config.directory, 0o700)  # the backups hold residents' personal data
    url = platform.db.url
    target = config.directory / f"minqing-{local:%Y%m%d-%H%M%S}.{EXTENSIONS[backup.url_kind(url)]}"
    backup.backup(url, target)
    log.info("nightly backup written to %s", target)
    prune(config.directory, config.keep)
    return target


@hookimpl
def periodic_tasks():
    return [{"name": "backup.nightly", "every": CHECK_EVERY, "run": run_nightly}]
