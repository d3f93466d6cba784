"""走村不漏户: villages (communities) with households never visited (last_visit_at is null), counted per village.
A warning's key names the village and the month, so an acknowledged village comes back next month if it still
has households nobody visited. Households have no map position here: these warnings are on the dashboard only,
with a panel of the villages with the most unvisited households."""
from __future__ import annotations

import dataclasses

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minqing.core import scope, warning_rules as warnings
from minqing.core.actors import Actor
from minqing.core.hooks import hookimpl
from minqing.core.models import Household, HouseholdCount, Region
from minqing.core.geo.regions import SIGNIFICANT
from minqing.core.warning_rules import EarlyWarning

from . import WARNINGS_SECTION, hooks, integer, percent, schema

MINQING_TITLE = "预警 · 走村不漏户"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "有从未走访的住户的村（社区）。"

KEY = "unvisited_households"
SETTINGS = {"minimum": 1, "limit": 20}
SCHEMA = schema(minimum=integer("最少未走访户数", 1, 100000), limit=integer("最多条数", 1, 500))


@dataclasses.dataclass(frozen=True)
class VillageCoverage:
    region_code: str          # the village (or, for households placed only in a township, the township)
    households: int
    unvisited: int

    @property
    def unvisited_rate(self) -> float:
        return self.unvisited / self.households if self.households else 0.0


@dataclasses.dataclass(frozen=True)
class HouseholdCoverage:
    households: int
    unvisited: int
    villages_with_unvisited: int
    worst: list[VillageCoverage]      # villages with the most unvisited households first

    @property
    def unvisited_rate(self) -> float:
        return self.unvisited / self.households if self.households else 0.0


def _per_village(session: Session, viewer: Actor, model, counted, *conditions) -> dict[str, int]:
    """{village code's significant digits: `counted`}, grouped by the stored region code (a village's or one of its
    groups': the indexes' order, no expression per row) and added up per village here."""
    totals: dict[str, int] = {}
    statement = select(model.region_code, counted).where(*conditions).group_by(model.region_code)
    for code, count in session.execute(scope.restrict(statement, model, viewer)):
        village = code[:SIGNIFICANT["village"]]
        totals[village] = totals.get(village, 0) + int(count)
    return totals


def unvisited_households(session: Session, viewer: Actor, *, limit: int = 10) -> HouseholdCoverage:
    """走村不漏户: households with no visit yet, per village, within the viewer's scope. The households are
    counted from `household_counts` (kept by the database, migration 0031), the unvisited ones from their
    partial index (migration 0034): not every household of the city."""
    households = _per_village(session, viewer, HouseholdCount, func.sum(HouseholdCount.households))
    unvisited = _per_village(session, viewer, Household, func.count(), Household.last_visit_at.is_(None))
    villages = [VillageCoverage(region_code=code.ljust(12, "0"), households=count, unvisited=unvisited.get(code, 0))
                for code, count in households.items() if count]
    worst = sorted((v for v in villages if v.unvisited), key=lambda v: (-v.unvisited, -v.unvisited_rate,
                                                                         v.region_code))
    return HouseholdCoverage(households=sum(v.households for v in villages),
                             unvisited=sum(v.unvisited for v in villages),
                             villages_with_unvisited=len(worst), worst=worst[:limit])


def _names(session: Session, codes: list[str]) -> dict[str, str]:
    return dict(session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all()) \
        if codes else {}


def evaluate(session, viewer, settings, now) -> list[EarlyWarning]:
    coverage = unvisited_households(session, viewer, limit=settings["limit"])
    month = warnings.city_today(now).strftime("%Y-%m")
    names = _names(session, [village.region_code for village in coverage.worst])
    return [EarlyWarning(
        rule=KEY, key=f"village:{village.region_code}:{month}",
        title=f"{names.get(village.region_code, village.region_code)}有从未走访的户",
        reason=(f"共 {village.households} 户，从未走访 {village.unvisited} 户"
                f"（{village.unvisited_rate:.0%}）。"),
        severity="blue", region_code=village.region_code, objects=(("region", village.region_code),))
        for village in coverage.worst if village.unvisited >= settings["minimum"]]


RULE = {"key": KEY, "title": "走村不漏户：从未走访的户", "settings": SETTINGS, "schema": SCHEMA,
        "evaluate": evaluate}


warning_rules, _ = hooks(RULE)


@hookimpl
def dashboard_panels(viewer, session):
    coverage = unvisited_households(session, viewer)
    rate = percent(coverage.unvisited_rate if coverage.households else None)
    blocks = [{"text": f"共 {coverage.households} 户，从未走访 {coverage.unvisited} 户（{rate}），"
                       f"涉及 {coverage.villages_with_unvisited} 个村（社区）。"}]
    if coverage.worst:
        names = _names(session, [village.region_code for village in coverage.worst])
        blocks.append({"table": {"id": "unvisited", "columns": ["村（社区）", "户数", "从未走访", "占比"],
                                 "rows": [[names.get(v.region_code, v.region_code), v.households, v.unvisited,
                                           percent(v.unvisited_rate)] for v in coverage.worst]}})
    return [{"key": "household", "title": RULE["title"], "count": coverage.unvisited, "section": WARNINGS_SECTION,
             "order": 30, "blocks": blocks}]
