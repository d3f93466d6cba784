"""走村不漏户: villages (communities) with households never visited (`core.warnings.unvisited_households`).
A warning's key names the village and the month, so an acknowledged village comes back next month if it still
has households nobody visited. Households have no map position here: these warnings are on the dashboard only."""
from __future__ import annotations

from sqlalchemy import select

from minqing.core import warnings
from minqing.core.models import Region
from minqing.core.warning_rules import EarlyWarning

from . import hooks, integer, schema

KEY = "unvisited_households"
SETTINGS = {"minimum": 1, "limit": 20}
SCHEMA = schema(minimum=integer("最少未走访户数", 1, 100000), limit=integer("最多条数", 1, 500))


def evaluate(session, viewer, settings, now) -> list[EarlyWarning]:
    coverage = warnings.unvisited_households(session, viewer, limit=settings["limit"])
    month = warnings.city_today(now).strftime("%Y-%m")
    codes = [village.region_code for village in coverage.worst]
    names = dict(session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all()
                 if codes else [])
    return [EarlyWarning(
        rule=KEY, key=f"village:{village.region_code}:{month}", title=f"{names.get(village.region_code, village.region_code)}有从未走访的户",
        reason=(f"共 {village.households} 户，从未走访 {village.unvisited} 户"
                f"（{village.unvisited_rate:.0%}）。"),
        severity="blue", region_code=village.region_code, objects=(("region", village.region_code),))
        for village in coverage.worst if village.unvisited >= settings["minimum"]]


RULE = {"key": KEY, "title": "走村不漏户：从未走访的户", "settings": SETTINGS, "schema": SCHEMA,
        "evaluate": evaluate}


warning_rules, _ = hooks(RULE)
