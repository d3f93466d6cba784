"""重点人员、场所走访逾期: key persons and places whose next visit was due before today, less a grace period
(`core.warnings.overdue_visits`). A warning's key names the object and its due date: once visited, the due date
moves and a later lapse is a new warning. Persons are shown by category, never by name."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from minqing.core import warnings
from minqing.core.models import KeyPlace
from minqing.core.warning_rules import EarlyWarning

from . import hooks, integer, schema

KEY = "overdue_visits"
SETTINGS = {"grace_days": 0, "red_after_days": 30, "limit": 50}
SCHEMA = schema(grace_days=integer("宽限天数", 0, 90), red_after_days=integer("逾期多少天标红", 1, 365),
                limit=integer("最多条数", 1, 500))
KIND_TITLES = {"key_person": "重点人员", "key_place": "重点场所"}


def evaluate(session, viewer, settings, now) -> list[EarlyWarning]:
    today = warnings.city_today(now) - dt.timedelta(days=settings["grace_days"])
    overdue = warnings.overdue_visits(session, viewer, today=today, limit=settings["limit"])
    place_ids = [item.id for item in overdue.oldest if item.kind == "key_place"]
    located = {row.id: (row.lon, row.lat) for row in session.execute(
        select(KeyPlace.id, KeyPlace.lon, KeyPlace.lat).where(KeyPlace.id.in_(place_ids)))} if place_ids else {}
    found = []
    for item in overdue.oldest:
        days = item.days_overdue + settings["grace_days"]
        lon, lat = located.get(item.id, (None, None)) if item.kind == "key_place" else (None, None)
        found.append(EarlyWarning(
            rule=KEY, key=f"{item.kind}:{item.id}:{item.next_visit_due.isoformat()}",
            title=f"{KIND_TITLES[item.kind]}走访逾期：{item.label}",
            reason=f"应于 {item.next_visit_due.isoformat()} 前走访，已逾期 {days} 天。",
            severity="red" if days >= settings["red_after_days"] else "yellow", grid_id=item.grid_id,
            region_code=item.region_code, lon=lon, lat=lat, objects=((item.kind, item.id),),
            category=item.category))
    return found


RULE = {"key": KEY, "title": "重点人员、场所走访逾期", "settings": SETTINGS, "schema": SCHEMA,
        "evaluate": evaluate}


warning_rules, map_layers = hooks(RULE, "#6a1b9a")
