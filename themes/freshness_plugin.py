"""数据鲜活度 on the dashboard (小兰民情): the `dashboard_panels` answer of the themes' data freshness
(`minqing.themes.freshness`), an internal plugin like the grid colours, so disabling it removes the panel. The
panel's blocks are `freshness.panel_blocks`, which the department's 巡查任务 page shows too: the freshness is the
themes' own figure (the evaluation carries it whatever the plugins), this plugin only puts it on the dashboard."""
from __future__ import annotations

from minqing.core.hooks import hookimpl

from . import freshness

MINQING_TITLE = "数据鲜活度"
MINQING_DESCRIPTION = "各部门、各业务主题的记录在周期内新增、更新或巡查的比例，以及一年未更新的记录。"


@hookimpl
def dashboard_panels(viewer, session, now):
    records, blocks = freshness.panel_blocks(session, viewer, now)
    return [{"key": "freshness", "title": "数据鲜活度", "count": records, "order": 60, "blocks": blocks}]
