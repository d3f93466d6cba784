"""The 12345 hotline channel (12345政务服务便民热线): work orders exported by the hotline system become cases, one
per order however often a file is imported, and every change of their status is kept for the hotline to fetch
(状态回传). docs/channels.md.

- `minqing channels import 12345 FILE [--dry-run]`: CSV, XLSX or JSON as the hotline exports them (`orders.py`);
- `minqing channels status-back 12345 --since TIME -o FILE`: what the hotline fetches back;
- its time standards (2-hour response, handling days by kind and category; `standards.py`) are declared with the
  channel: `minqing.workflows.channels.time_standards(platform, "12345")`.
"""
from __future__ import annotations

from pathlib import Path

from minqing.core.hooks import hookimpl
from minqing.workflows import channels

from . import standards
from .orders import CHANNEL

MINQING_TITLE = "12345热线 · 工单接入"
MINQING_DESCRIPTION = "导入12345政务服务便民热线的工单（每张工单一件事件），并回传办理状态。"
TITLE = "12345政务服务便民热线"


def import_orders(platform, path, *, actor, dry_run=False, report_path=None, show_progress=False):
    """Import a hotline export file (see `orders`); returns the channels' ImportSummary."""
    from .orders import Mapper, read

    rows, total, unknown, names = read(Path(path))
    with platform.db.session() as session:
        mapper = Mapper(platform, session, names)
    summary = channels.import_items(platform, CHANNEL, (mapper.row(number, cells) for number, cells in rows),
                                    total=total, actor=actor, dry_run=dry_run,
                                    report_path=Path(report_path) if report_path else None,
                                    show_progress=show_progress, label=TITLE, file=str(path))
    summary.unknown_columns = unknown
    return summary


@hookimpl
def intake_channels():
    return [{"name": CHANNEL, "title": TITLE, "source": "hotline", "import": import_orders,
             "time_standards": standards.time_standards()}]


@hookimpl
def case_transitioned(case, transition, session):
    if case.channel == CHANNEL:
        channels.record_update(session, case, transition)
