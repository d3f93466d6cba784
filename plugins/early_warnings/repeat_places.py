"""重复地点: the same place keeps coming back over months — cases at the same address, or within `radius_m` metres
of each other (linked through one another), at least `min_cases` of them over at least `min_months` calendar
months of the last `days` days, one of them reported in the last `recent_days` days. The linking is
`minqing.workflows.briefs.places.repeat_places`, the same the 研判 brief lists its repeat places with.

The warning's key is the place's oldest case within the window, so the place keeps its key while it gathers new
cases (and an acknowledgement sticks until that case leaves the window)."""
from __future__ import annotations

import datetime as dt

from minqing.core.warning_rules import EarlyWarning
from minqing.workflows import briefs

from . import hooks, integer, schema

MINQING_TITLE = "预警 · 重复地点"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "同一地址或相距很近的地点跨月反复发生事件时预警。"

KEY = "repeat_places"
SETTINGS = {"radius_m": 30, "days": 180, "recent_days": 30, "min_cases": 3, "min_months": 2, "limit": 50}
SCHEMA = schema(radius_m=integer("距离（米）", 1, 2000), days=integer("回看天数", 30, 730),
                recent_days=integer("近期天数", 1, 365), min_cases=integer("最少事件数", 2, 100),
                min_months=integer("最少月份数", 1, 24), limit=integer("最多条数", 1, 500))


def evaluate(session, viewer, settings, now) -> list[EarlyWarning]:
    found = briefs.places.repeat_places(
        session, viewer, end=now, days=settings["days"], radius_m=settings["radius_m"],
        min_cases=settings["min_cases"], min_months=settings["min_months"],
        touching=(now - dt.timedelta(days=settings["recent_days"]), now), limit=settings["limit"])
    return [EarlyWarning(
        rule=KEY, key=f"place:{place.case_ids[0]}",
        title=f"重复地点：{place.address or '、'.join(place.categories[:2])}",
        reason=(f"{len(place.months)} 个月内（{place.months[0]} 至 {place.months[-1]}）同一地点发生 {place.cases} 件事件，"
                f"类别：{'、'.join(place.categories[:3])}。"),
        severity="red" if place.cases >= 2 * settings["min_cases"] else "yellow", grid_id=place.grid_id,
        region_code=place.region_code, lon=place.lon, lat=place.lat,
        objects=tuple(("case", case_id) for case_id in place.case_ids)) for place in found]


RULE = {"key": KEY, "title": "重复地点", "settings": SETTINGS, "schema": SCHEMA, "evaluate": evaluate}


warning_rules, map_layers = hooks(RULE, "#8e24aa")
