"""办结后同一地点再次上报: a case reported within a distance and a number of days of a closed case of the same
theme and category code (`core.warnings.repeat_reports`): the problem was closed but has come back."""
from __future__ import annotations

from minqing.core import warnings
from minqing.core.warning_rules import EarlyWarning

from . import hooks, integer, schema

KEY = "repeat_reports"
SETTINGS = {"radius_m": 50, "days": 30, "limit": 50}
SCHEMA = schema(radius_m=integer("距离（米）", 1, 5000), days=integer("天数", 1, 365),
                limit=integer("最多条数", 1, 500))


def evaluate(session, viewer, settings, now) -> list[EarlyWarning]:
    reports = warnings.repeat_reports(session, viewer, now=now, radius_m=settings["radius_m"],
                                      days=settings["days"], limit=settings["limit"])
    return [EarlyWarning(
        rule=KEY, key=f"case:{report.case_id}",
        title=f"办结后再次上报：{report.category or report.subcategory or '同类事件'}",
        reason=(f"事件 #{report.case_id} 距已办结事件 #{report.closed_case_id} 约 {report.distance_m:.0f} 米，"
                f"办结后 {report.days_after_closure} 天再次上报同类问题。"),
        severity="yellow", grid_id=report.grid_id, region_code=report.region_code, lon=report.lon, lat=report.lat,
        objects=(("case", report.case_id), ("case", report.closed_case_id)), theme_key=report.theme_key,
        category=report.category, subcategory=report.subcategory) for report in reports]


RULE = {"key": KEY, "title": "办结后同一地点再次上报", "settings": SETTINGS, "schema": SCHEMA,
        "evaluate": evaluate}


warning_rules, map_layers = hooks(RULE, "#ef6c00")
