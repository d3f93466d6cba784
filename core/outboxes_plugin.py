"""网格员手机待发送 on the dashboard (小兰民情): per grid worker of the viewer's region, the submissions waiting on
their phone at its last sync and when that was (`minqing.core.outboxes`). An internal plugin: disabling it removes
the panel, not the syncing."""
from __future__ import annotations

from . import outboxes
from .clock import local_time
from .hooks import hookimpl

MINQING_TITLE = "网格员手机待发送"
MINQING_DESCRIPTION = "每名网格员手机上尚未发送的上报、走访、巡查条数（最近一次同步时报告）和最近同步时间。"
ROWS = 200


def panel(session, viewer, now) -> dict | None:
    rows = outboxes.worker_outboxes(session, viewer)
    if not rows:
        return None
    waiting = sum(row.pending or 0 for row in rows)
    table = {"id": "phone-outboxes", "columns": ["网格员", "网格", "手机待发送", "最近同步"],
             "rows": [[row.name, row.grid, "—" if row.pending is None else row.pending,
                       local_time(row.synced_at).strftime("%Y-%m-%d %H:%M") if row.synced_at else "从未同步"]
                      for row in rows[:ROWS]]}
    return {"key": "phone_outboxes", "title": "网格员手机待发送", "count": waiting, "order": 58,
            "blocks": [{"note": "离线时填写的上报、走访、巡查存在网格员手机上，联网后自动发送；"
                                "此处为每部手机最近一次同步时报告的待发送条数。"}, {"table": table}]}


@hookimpl
def dashboard_panels(viewer, session, now):
    found = panel(session, viewer, now)
    return [found] if found else []
