"""办结后同一地点再次上报: a case reported within `radius_m` metres and `days` days after a closed case of the same
theme and category code at the same place (a lon/lat box first, then the distance): the problem was closed but has
come back. Its warnings are its whole summary: it brings no dashboard panel."""
from __future__ import annotations

import dataclasses
import datetime as dt
import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core import scope
from minqing.core.actors import Actor
from minqing.core.models import Case, utcnow
from minqing.core.warning_rules import EarlyWarning
from minqing.core.warning_rules import WARNING_SOURCE

from . import hooks, integer, schema

MINQING_TITLE = "预警 · 办结后同一地点再次上报"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "事件办结后同一地点短期内再次上报时预警。"

KEY = "repeat_reports"
SETTINGS = {"radius_m": 50, "days": 30, "limit": 50}
SCHEMA = schema(radius_m=integer("距离（米）", 1, 5000), days=integer("天数", 1, 365),
                limit=integer("最多条数", 1, 500))
VOID = "voided"

EARTH_RADIUS_M = 6_371_000.0
METRES_PER_DEGREE = 111_320.0
WIDEST_LATITUDE = 55.0   # the box's longitude span is computed at this latitude: wide enough for all of China
NEIGHBOURS = tuple((dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1))   # a cell and the 8 around it


@dataclasses.dataclass(frozen=True)
class RepeatReport:
    case_id: int              # the new report
    closed_case_id: int       # the closed case at the same place
    theme_key: str
    category: str
    subcategory: str
    grid_id: int | None
    region_code: str
    lon: float
    lat: float
    distance_m: float
    days_after_closure: int
    reported_at: dt.datetime


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def repeat_reports(session: Session, viewer: Actor, *, now: dt.datetime | None = None, radius_m: float = 50,
                   days: int = 30, limit: int | None = 50) -> list[RepeatReport]:
    """Cases reported in the last `days` days, within `radius_m` of a case of the same theme and category code
    that was closed at most `days` days before; the newest first, each new case once (its nearest closed case).

    Two scans, not a self-join (which SQLite runs as nested loops: minutes for 20,000 cases): the recent cases
    within the viewer's scope, then the closed cases of their themes inside their box widened by the radius;
    the pairs are matched in cells of the radius's size (a case's neighbours lie in its cell or the 8 around).
    """
    if radius_m <= 0 or days < 1:
        raise ValueError("radius_m and days must be positive")
    now = now or utcnow()
    window = dt.timedelta(days=days)
    # Core rows (plain tuples) through the session's connection, not the ORM's row loading, and unpacked once:
    # the rows' attribute access and the ORM's loading were most of the rule's time (docs/performance.md).
    connection = session.connection()
    recent = connection.execute(scope.restrict(
        select(Case.id, Case.theme_key, Case.subcategory, Case.lon, Case.lat, Case.created_at, Case.category,
               Case.grid_id, Case.region_code)
        # a case made from a warning is the follow-up, not the problem coming back
        .where(Case.created_at >= now - window, Case.created_at < now, Case.status != VOID,
               Case.source != WARNING_SOURCE, Case.lon.is_not(None), Case.lat.is_not(None)), Case, viewer)).all()
    if not recent:
        return []
    d_lat = radius_m / METRES_PER_DEGREE
    d_lon = radius_m / (METRES_PER_DEGREE * math.cos(math.radians(WIDEST_LATITUDE)))
    _, theme_keys, _, lons, lats, *_ = zip(*recent)
    closed = connection.execute(
        select(Case.id, Case.theme_key, Case.subcategory, Case.lon, Case.lat, Case.closed_at)
        .where(Case.status == "closed", Case.closed_at >= now - 2 * window, Case.closed_at < now,
               Case.theme_key.in_(sorted(set(theme_keys))),
               Case.lon.between(min(lons) - d_lon, max(lons) + d_lon),
               Case.lat.between(min(lats) - d_lat, max(lats) + d_lat)))

    cells: dict[tuple, list] = {}
    for old_id, theme_key, subcategory, lon, lat, closed_at in closed:
        cells.setdefault((theme_key, subcategory, math.floor(lon / d_lon), math.floor(lat / d_lat)), []).append(
            (old_id, lon, lat, closed_at))
    found = []
    for new_id, theme_key, subcategory, lon, lat, created_at, category, grid_id, region_code in recent:
        x, y = math.floor(lon / d_lon), math.floor(lat / d_lat)
        nearest = None
        for dx, dy in NEIGHBOURS:
            for old_id, old_lon, old_lat, closed_at in cells.get((theme_key, subcategory, x + dx, y + dy), ()):
                if old_id == new_id or not (dt.timedelta(0) < created_at - closed_at <= window):
                    continue
                metres = distance_m(lon, lat, old_lon, old_lat)
                if metres <= radius_m and (nearest is None or (metres, old_id) < nearest[:2]):
                    nearest = (metres, old_id, closed_at)
        if nearest is not None:
            metres, old_id, closed_at = nearest
            found.append(RepeatReport(
                case_id=new_id, closed_case_id=old_id, theme_key=theme_key, category=category or "",
                subcategory=subcategory or "", grid_id=grid_id, region_code=region_code or "", lon=lon, lat=lat,
                distance_m=round(metres, 1), days_after_closure=(created_at - closed_at).days,
                reported_at=created_at))
    found.sort(key=lambda r: (r.reported_at, r.case_id), reverse=True)
    return found[:limit] if limit else found


def evaluate(session, viewer, settings, now) -> list[EarlyWarning]:
    reports = repeat_reports(session, viewer, now=now, radius_m=settings["radius_m"], days=settings["days"],
                             limit=settings["limit"])
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
