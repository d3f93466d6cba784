"""数据鲜活度 on the dashboard (小兰民情): the `dashboard_panels` answer of the themes' data freshness
(`minqing.themes.freshness`), an internal plugin like the grid colours, so disabling it removes the panel."""
from __future__ import annotations

from sqlalchemy import select

from minqing.core.hooks import hookimpl
from minqing.core.models import Department

from . import freshness
from .versions import latest_versions

MINQING_TITLE = "数据鲜活度"
MINQING_DESCRIPTION = "各部门、各业务主题的记录在周期内新增、更新或巡查的比例，以及一年未更新的记录。"
ROWS = 100


def panel_blocks(session, viewer, now) -> tuple[int, list[dict]]:
    """(records, the blocks) of the freshness panel as `viewer` sees it; the department's own page shows the same."""
    rows = freshness.freshness(session, viewer, now)
    departments = dict(session.execute(select(Department.key, Department.short_name)).all())
    titles = {key: version.document.get("title", key) for key, version in latest_versions(session).items()}
    records = sum(row.records for row in rows)
    fresh = sum(row.fresh for row in rows)
    blocks = [{"text": f"共 {records} 条业务记录，{fresh} 条在周期内新增、更新或巡查，"
                       f"数据鲜活度 {freshness.percent(fresh / records if records else None)}。"},
              {"note": "周期：业务主题的巡查周期，未设巡查周期的主题按 365 天计。"}]
    if rows:
        blocks.append({"table": {"id": "freshness", "columns": ["部门", "业务主题", "周期（天）", "记录数", "周期内更新",
                                                                "数据鲜活度", "一年未更新"],
                                 "rows": [[departments.get(row.department_key, row.department_key),
                                           titles.get(row.theme_key, row.theme_key), row.period_days, row.records,
                                           row.fresh, freshness.percent(row.rate), row.untouched]
                                          for row in rows[:ROWS]]}})
    stale = freshness.untouched(session, viewer, now)
    if stale:
        blocks += [{"label": "一年未更新的记录："},
                   {"items": [f"{departments.get(item.department_key, item.department_key)} · "
                              f"{titles.get(item.theme_key, item.theme_key)} · {item.title}"
                              f"（最后更新 {item.last_touched.date().isoformat()}）" for item in stale]}]
    return records, blocks


@hookimpl
def dashboard_panels(viewer, session, now):
    records, blocks = panel_blocks(session, viewer, now)
    return [{"key": "freshness", "title": "数据鲜活度", "count": records, "order": 60, "blocks": blocks}]
