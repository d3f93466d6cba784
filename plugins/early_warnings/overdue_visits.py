"""重点人员、场所走访逾期: key persons and places whose next visit was due before today (in the city's time), less
a grace period. A warning's key names the object and its due date: once visited, the due date moves and a later
lapse is a new warning. Persons are shown by category, never by name. The dashboard panel counts them per grid
and lists the longest overdue."""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minqing.core import scope, warning_rules as warnings
from minqing.core.actors import Actor
from minqing.core.hooks import hookimpl
from minqing.core.models import Grid, KeyPerson, KeyPlace
from minqing.core.warning_rules import EarlyWarning

from . import WARNINGS_SECTION, hooks, integer, schema

MINQING_TITLE = "预警 · 重点人员场所走访逾期"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "重点人员、场所走访逾期时预警。"

KEY = "overdue_visits"
SETTINGS = {"grace_days": 0, "red_after_days": 30, "limit": 50}
SCHEMA = schema(grace_days=integer("宽限天数", 0, 90), red_after_days=integer("逾期多少天标红", 1, 365),
                limit=integer("最多条数", 1, 500))
KIND_TITLES = {"key_person": "重点人员", "key_place": "重点场所"}
NO_GRID = "未划入网格"


@dataclasses.dataclass(frozen=True)
class OverdueVisit:
    kind: str                 # "key_person" or "key_place"
    id: int
    label: str                # a place's name; a person's category (names stay on the work pages)
    category: str
    grid_id: int | None
    region_code: str
    next_visit_due: dt.date
    days_overdue: int


@dataclasses.dataclass(frozen=True)
class OverdueVisits:
    persons: int
    places: int
    by_grid: list[tuple[int | None, int, int]]   # (grid id, persons, places), worst first
    oldest: list[OverdueVisit]                    # the longest overdue, persons and places together

    @property
    def total(self) -> int:
        return self.persons + self.places


def overdue_visits(session: Session, viewer: Actor, *, today: dt.date | None = None,
                   limit: int = 10) -> OverdueVisits:
    """Key persons and key places whose `next_visit_due` is before `today` (default: today in the city)."""
    today = today or warnings.city_today()
    per_grid: dict[int | None, list[int]] = {}
    totals = {}
    oldest: list[OverdueVisit] = []
    for kind, model, label in (("key_person", KeyPerson, KeyPerson.category), ("key_place", KeyPlace, KeyPlace.name)):
        late = model.next_visit_due < today
        grouped = scope.restrict(select(model.grid_id, func.count()).where(late).group_by(model.grid_id),
                                 model, viewer)
        counts = dict(session.execute(grouped).all())
        totals[kind] = sum(counts.values())
        for grid_id, count in counts.items():
            per_grid.setdefault(grid_id, [0, 0])[0 if kind == "key_person" else 1] += count
        rows = session.execute(scope.restrict(
            select(model.id, label.label("label"), model.category, model.grid_id, model.region_code,
                   model.next_visit_due).where(late).order_by(model.next_visit_due, model.id).limit(limit),
            model, viewer))
        oldest += [OverdueVisit(kind=kind, id=row.id, label=row.label, category=row.category, grid_id=row.grid_id,
                                region_code=row.region_code, next_visit_due=row.next_visit_due,
                                days_overdue=(today - row.next_visit_due).days) for row in rows]
    by_grid = sorted(((grid_id, persons, places) for grid_id, (persons, places) in per_grid.items()),
                     key=lambda item: (-(item[1] + item[2]), item[0] or 0))
    oldest.sort(key=lambda item: (item.next_visit_due, item.kind, item.id))
    return OverdueVisits(persons=totals["key_person"], places=totals["key_place"], by_grid=by_grid[:limit],
                         oldest=oldest[:limit])


def evaluate(session, viewer, settings, now) -> list[EarlyWarning]:
    today = warnings.city_today(now) - dt.timedelta(days=settings["grace_days"])
    overdue = overdue_visits(session, viewer, today=today, limit=settings["limit"])
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


# -- the dashboard panel ---------------------------------------------------------------------------------------

def _grid_names(session: Session, visits: OverdueVisits) -> dict[int, str]:
    ids = {grid_id for grid_id, _, _ in visits.by_grid} | {item.grid_id for item in visits.oldest}
    ids.discard(None)
    return dict(session.execute(select(Grid.id, Grid.name).where(Grid.id.in_(ids))).all()) if ids else {}


@hookimpl
def dashboard_panels(viewer, session, now):
    visits = overdue_visits(session, viewer, today=warnings.city_today(now))
    blocks = [{"text": f"重点人员 {visits.persons} 人，重点场所 {visits.places} 处超过走访周期未走访。"}]
    if visits.by_grid:
        grids = _grid_names(session, visits)
        blocks += [
            {"table": {"id": "overdue-visits", "columns": ["网格", "重点人员", "重点场所"],
                       "rows": [[grids.get(grid_id, NO_GRID), persons, places]
                                for grid_id, persons, places in visits.by_grid]}},
            {"label": "逾期最久："},
            {"items": [f"{KIND_TITLES[item.kind]} · {item.label}（{grids.get(item.grid_id, NO_GRID)}）"
                       f"应于 {item.next_visit_due} 前走访，已逾期 {item.days_overdue} 天" for item in visits.oldest]},
        ]
    return [{"key": "visit", "title": RULE["title"], "count": visits.total, "section": WARNINGS_SECTION,
             "order": 20, "blocks": blocks}]
