"""业务主题记录巡查逾期: records of the departments' themes not patrolled within their theme's
``patrol_every_days``, one warning per department and grid (the grid workers of that grid patrol them), red from
`red_from` records. The dashboard shows the overdue patrols per department and grid in its early-warning section,
and each department's figures count its overdue patrols. Disabling this plugin removes the rule, the panel and the
figures; the grid workers' patrol tasks stay (they are the themes' own).

The periods are the published themes' of the enabled plugins (``minqing.themes.patrols.published_periods``): the
rule has no plugin host. A theme whose plugin is disabled has no patrol tasks and takes no patrols, so its records
are counted nowhere here (a warning that could never clear). The counts are remembered per session and viewer
(``themes.overdue_counts``), so a dashboard counts once for the rule, the figures and the panel.
"""
from __future__ import annotations

from sqlalchemy import select

from minqing import themes
from minqing.core.hooks import hookimpl
from minqing.core.models import Department, Grid
from minqing.core.warning_rules import EarlyWarning

MINQING_TITLE = "预警 · 业务主题记录巡查逾期"
MINQING_DESCRIPTION = "部门业务主题的记录超过巡查周期未巡查时，按部门和网格预警，并计入部门指标。"

KEY = "overdue_patrols"
TITLE = "业务主题记录巡查逾期"
SETTINGS = {"min_records": 1, "red_from": 10}
SCHEMA = {"type": "object", "additionalProperties": False, "required": ["min_records", "red_from"],
          "properties": {"min_records": {"type": "integer", "title": "至少逾期条数", "minimum": 1, "maximum": 1000},
                         "red_from": {"type": "integer", "title": "逾期多少条标红", "minimum": 1, "maximum": 10000}}}
NO_GRID = "未划入网格"
WARNINGS_SECTION = "warnings"


def _names(session, counts) -> tuple[dict[str, str], dict[int, str]]:
    departments = dict(session.execute(select(Department.key, Department.short_name)).all())
    grid_ids = {grid_id for _, grid_id, _, _ in counts if grid_id is not None}
    grids = dict(session.execute(select(Grid.id, Grid.name).where(Grid.id.in_(grid_ids))).all()) if grid_ids else {}
    return departments, grids


def evaluate(session, viewer, settings, now) -> list[EarlyWarning]:
    counts = themes.overdue_counts(session, viewer, now)
    departments, grids = _names(session, counts)
    found = []
    for department, grid_id, region_code, count in counts:
        if count < settings["min_records"]:
            continue
        name = departments.get(department, department)
        place = grids.get(grid_id, NO_GRID)
        found.append(EarlyWarning(
            rule=KEY, key=f"{department}:{grid_id or 0}", title=f"{name}业务记录巡查逾期：{place}",
            reason=f"{place}有 {count} 条{name}的业务记录超过巡查周期未巡查。",
            severity="red" if count >= settings["red_from"] else "yellow", grid_id=grid_id,
            region_code=region_code, department=department))
    return found


RULE = {"key": KEY, "title": TITLE, "settings": SETTINGS, "schema": SCHEMA, "evaluate": evaluate}


@hookimpl
def warning_rules():
    return [RULE]


@hookimpl
def dashboard_figures(viewer, session):
    counts = themes.overdue_counts(session, viewer)
    per_department: dict[str, int] = {}
    for department, _grid, _region, count in counts:
        per_department[department] = per_department.get(department, 0) + count
    departments = dict(session.execute(select(Department.key, Department.short_name)).all())
    figures = [{"key": "overdue_patrols", "title": "巡查逾期记录", "value": sum(per_department.values()),
                "unit": "条", "detail": f"涉及 {len(per_department)} 个部门"}]
    figures += [{"key": f"overdue_patrols.{key}", "title": f"{departments.get(key, key)}巡查逾期记录",
                 "value": count, "unit": "条", "department": key}
                for key, count in sorted(per_department.items(), key=lambda item: (-item[1], item[0]))]
    return figures


@hookimpl
def dashboard_panels(viewer, session, now):
    counts = themes.overdue_counts(session, viewer, now)
    departments, grids = _names(session, counts)
    total = sum(count for *_, count in counts)
    blocks = [{"text": f"{total} 条业务记录超过巡查周期未巡查。"}]
    if counts:
        blocks.append({"table": {"id": "overdue-patrols", "columns": ["部门", "网格", "逾期条数"],
                                 "rows": [[departments.get(department, department), grids.get(grid_id, NO_GRID), count]
                                          for department, grid_id, _, count in counts[:50]]}})
    return [{"key": "patrol", "title": TITLE, "count": total, "section": WARNINGS_SECTION, "order": 25,
             "blocks": blocks}]
