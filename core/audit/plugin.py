"""The audit log's plugin: the daily retention job, scheduled like every plugin's periodic work
(`periodic_tasks`). Registered through the `minqing.plugins` entry points; required, so it cannot be switched off."""
from __future__ import annotations

import os

from minqing.core.hooks import hookimpl

MINQING_TITLE = "审计日志"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "审计日志的保留期清理，每日执行。"

MINQING_REQUIRED = True  # keeping (and only then removing) the audit log is part of the platform
PRUNE_EVERY = float(os.environ.get("MINQING_AUDIT_PRUNE_SECONDS", str(24 * 3600)))


def _prune(platform) -> None:
    from .retention import run_scheduled

    run_scheduled(platform)


@hookimpl
def periodic_tasks():
    return [{"name": "audit.retention", "every": PRUNE_EVERY, "run": _prune}]
