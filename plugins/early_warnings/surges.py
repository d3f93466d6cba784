"""同类事件激增: one category of cases in one grid surging against the grid's own recent baseline
(`core.warnings.event_surges`). A warning's key names the grid, theme, category code and ISO week, so an
acknowledged surge comes back if it is still going on the next week."""
from __future__ import annotations

from sqlalchemy import select

from minqing.core import warnings
from minqing.core.models import Grid
from minqing.core.warning_rules import EarlyWarning

from . import hooks, integer, schema

KEY = "surges"
SETTINGS = {"recent_days": 7, "baseline_days": 30, "factor": 3.0, "minimum": 5, "limit": 20}
SCHEMA = schema(recent_days=integer("近期天数", 1, 90), baseline_days=integer("基线天数", 1, 365),
                factor={"type": "number", "title": "倍数", "exclusiveMinimum": 0, "maximum": 100},
                minimum=integer("最少件数", 1, 10000), limit=integer("最多条数", 1, 500))


def evaluate(session, viewer, settings, now) -> list[EarlyWarning]:
    surges = warnings.event_surges(session, viewer, area="grid", now=now, recent_days=settings["recent_days"],
                                   baseline_days=settings["baseline_days"], factor=settings["factor"],
                                   minimum=settings["minimum"], limit=settings["limit"])
    grids = {grid.id: grid for grid in session.scalars(select(Grid).where(
        Grid.id.in_([surge.area_key for surge in surges])))} if surges else {}
    year, week, _ = warnings.city_today(now).isocalendar()
    found = []
    for surge in surges:
        grid = grids.get(surge.area_key)
        baseline = (f"此前 {surge.baseline_days} 天共 {surge.baseline} 件，按此应有约 {surge.expected:.1f} 件"
                    if surge.baseline else f"此前 {surge.baseline_days} 天没有此类事件")
        name = grid.name if grid else "网格"
        found.append(EarlyWarning(
            rule=KEY, key=f"grid:{surge.area_key}:{surge.theme_key}:{surge.subcategory}:{year}-W{week:02d}",
            title=f"{name}「{surge.category or surge.subcategory or '未分类'}」事件激增",
            reason=f"近 {surge.recent_days} 天上报 {surge.recent} 件；{baseline}。",
            severity="red" if surge.ratio is None or surge.ratio >= 2 * settings["factor"] else "yellow",
            grid_id=surge.area_key, region_code=grid.region_code if grid else "",
            lon=(grid.min_lon + grid.max_lon) / 2 if grid and grid.min_lon is not None else None,
            lat=(grid.min_lat + grid.max_lat) / 2 if grid and grid.min_lat is not None else None,
            objects=(("grid", surge.area_key),), theme_key=surge.theme_key, category=surge.category,
            subcategory=surge.subcategory))
    return found


RULE = {"key": KEY, "title": "同类事件激增", "settings": SETTINGS, "schema": SCHEMA, "evaluate": evaluate}


warning_rules, map_layers = hooks(RULE, "#c62828")
