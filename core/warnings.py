"""预警 (early warnings) for the management dashboard, each one set-based query within the viewer's scope.

- `event_surges`: a category of cases in one grid (or village) whose count in the last `recent_days` days is
  at least `minimum` and exceeds `factor` times what its own daily rate over the `baseline_days` days before
  would predict for those days (recent × baseline_days > factor × baseline × recent_days). An area with no
  such cases in the baseline fires as soon as it reaches `minimum`.
- `overdue_visits`: key persons and key places whose next visit was due before today (in the city's time).
- `unvisited_households`: households never visited (last_visit_at is null), counted per village — 走村不漏户.
- `repeat_reports`: a case reported within `radius_m` metres and `days` days after a closed case of the same
  theme and category code at the same place — 同一地点办结后再次上报 (a lon/lat box first, then the distance).

Every query goes through `scope.restrict`; the functions take settings as arguments, so a page, a periodic
task or a test can tune them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from . import scope
from .actors import Actor
from .models import Case, Household, KeyPerson, KeyPlace, utcnow
from .regions import SIGNIFICANT

CITY_TIMEZONE = ZoneInfo("Asia/Shanghai")
VOID = "voided"
WARNING_SOURCE = "warning"    # Case.source of the cases made from a warning
AREAS = ("grid", "village")


def city_today(now: dt.datetime | None = None) -> dt.date:
    """Today's calendar date in the city (due dates are local dates)."""
    return (now or utcnow()).astimezone(CITY_TIMEZONE).date()


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


# -- (a) surges of similar events -------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Surge:
    area: str                 # "grid" or "village"
    area_key: int | str       # a grid id, or a 12-digit village code
    theme_key: str
    category: str             # the category's group title (Case.category, e.g. "市容环境")
    subcategory: str          # the category code of the theme (Case.subcategory, e.g. "1001")
    recent: int               # cases in the last `recent_days` days
    baseline: int             # cases in the `baseline_days` days before
    recent_days: int
    baseline_days: int

    @property
    def baseline_daily(self) -> float:
        return self.baseline / self.baseline_days

    @property
    def expected(self) -> float:
        """Cases the baseline rate predicts for the recent window."""
        return self.baseline_daily * self.recent_days

    @property
    def ratio(self) -> float | None:
        """How many times the expected count the recent count is; None when the baseline is empty."""
        return self.recent / self.expected if self.baseline else None


def event_surges(session: Session, viewer: Actor, *, area: str = "grid", now: dt.datetime | None = None,
                 recent_days: int = 7, baseline_days: int = 30, factor: float = 3.0, minimum: int = 5,
                 limit: int | None = 20) -> list[Surge]:
    """Categories (theme, category and category code) whose recent count in one grid or village surged;
    the largest recent counts first."""
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r}; use one of {AREAS}")
    if recent_days < 1 or baseline_days < 1 or factor <= 0 or minimum < 1:
        raise ValueError("recent_days, baseline_days and minimum must be positive, factor greater than 0")
    now = now or utcnow()
    recent_start = now - dt.timedelta(days=recent_days)
    baseline_start = recent_start - dt.timedelta(days=baseline_days)
    key = (Case.grid_id if area == "grid" else func.substr(Case.region_code, 1, SIGNIFICANT["village"])).label("area")
    recent = _count(Case.created_at >= recent_start)
    baseline = _count(Case.created_at < recent_start)
    statement = (
        select(key, Case.theme_key, Case.category, Case.subcategory, recent.label("recent"),
               baseline.label("baseline"))
        .where(Case.created_at >= baseline_start, Case.created_at < now, Case.status != VOID,
               (Case.grid_id.is_not(None) if area == "grid" else Case.region_code != ""))
        .group_by(key, Case.theme_key, Case.category, Case.subcategory)
        # Integers on both sides: recent / recent_days > factor × baseline / baseline_days
        .having(recent >= minimum, recent * literal(baseline_days) > baseline * literal(factor * recent_days))
        .order_by(recent.desc(), key, Case.theme_key, Case.category, Case.subcategory))
    if limit:
        statement = statement.limit(limit)
    rows = session.execute(scope.restrict(statement, Case, viewer))
    return [Surge(area=area, area_key=row.area, theme_key=row.theme_key, category=row.category or "",
                  subcategory=row.subcategory or "", recent=int(row.recent), baseline=int(row.baseline),
                  recent_days=recent_days, baseline_days=baseline_days) for row in rows]


# -- (b) overdue visits of key persons and places --------------------------------------------------------

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
    today = today or city_today()
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


# -- (c) households never visited --------------------------------------------------------------------------

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


def unvisited_households(session: Session, viewer: Actor, *, limit: int = 10) -> HouseholdCoverage:
    """走村不漏户: households with no visit yet, per village, within the viewer's scope."""
    village = func.substr(Household.region_code, 1, SIGNIFICANT["village"]).label("village")
    unvisited = _count(Household.last_visit_at.is_(None))
    rows = session.execute(scope.restrict(
        select(village, func.count().label("households"), unvisited.label("unvisited")).group_by(village),
        Household, viewer)).all()
    villages = [VillageCoverage(region_code=row.village.ljust(12, "0"), households=int(row.households),
                                unvisited=int(row.unvisited or 0)) for row in rows]
    worst = sorted((v for v in villages if v.unvisited), key=lambda v: (-v.unvisited, -v.unvisited_rate,
                                                                         v.region_code))
    return HouseholdCoverage(households=sum(v.households for v in villages),
                             unvisited=sum(v.unvisited for v in villages),
                             villages_with_unvisited=len(worst), worst=worst[:limit])


# -- (d) the same place reported again after closure ----------------------------------------------------

EARTH_RADIUS_M = 6_371_000.0
METRES_PER_DEGREE = 111_320.0
WIDEST_LATITUDE = 55.0   # the box's longitude span is computed at this latitude: wide enough for all of China


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
    recent = session.execute(scope.restrict(
        select(Case.id, Case.theme_key, Case.category, Case.subcategory, Case.grid_id, Case.region_code,
               Case.lon, Case.lat, Case.created_at)
        # a case made from a warning is the follow-up, not the problem coming back
        .where(Case.created_at >= now - window, Case.created_at < now, Case.status != VOID,
               Case.source != WARNING_SOURCE, Case.lon.is_not(None), Case.lat.is_not(None)), Case, viewer)).all()
    if not recent:
        return []
    d_lat = radius_m / METRES_PER_DEGREE
    d_lon = radius_m / (METRES_PER_DEGREE * math.cos(math.radians(WIDEST_LATITUDE)))
    closed = session.execute(
        select(Case.id, Case.theme_key, Case.subcategory, Case.lon, Case.lat, Case.closed_at)
        .where(Case.status == "closed", Case.closed_at >= now - 2 * window, Case.closed_at < now,
               Case.theme_key.in_(sorted({row.theme_key for row in recent})),
               Case.lon.between(min(row.lon for row in recent) - d_lon, max(row.lon for row in recent) + d_lon),
               Case.lat.between(min(row.lat for row in recent) - d_lat, max(row.lat for row in recent) + d_lat)))

    def cell(lon, lat):
        return math.floor(lon / d_lon), math.floor(lat / d_lat)

    cells: dict[tuple, list] = {}
    for row in closed:
        cells.setdefault((row.theme_key, row.subcategory, *cell(row.lon, row.lat)), []).append(row)
    found = []
    for row in recent:
        x, y = cell(row.lon, row.lat)
        nearest = None
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for old in cells.get((row.theme_key, row.subcategory, x + dx, y + dy), ()):
                    if old.id == row.id or not (dt.timedelta(0) < row.created_at - old.closed_at <= window):
                        continue
                    metres = distance_m(row.lon, row.lat, old.lon, old.lat)
                    if metres <= radius_m and (nearest is None or (metres, old.id) < nearest[:2]):
                        nearest = (metres, old.id, old)
        if nearest is not None:
            metres, _, old = nearest
            found.append(RepeatReport(
                case_id=row.id, closed_case_id=old.id, theme_key=row.theme_key, category=row.category or "",
                subcategory=row.subcategory or "", grid_id=row.grid_id, region_code=row.region_code or "",
                lon=row.lon, lat=row.lat, distance_m=round(metres, 1),
                days_after_closure=(row.created_at - old.closed_at).days, reported_at=row.created_at))
    found.sort(key=lambda r: (r.reported_at, r.case_id), reverse=True)
    return found[:limit] if limit else found


__all__ = ["AREAS", "WARNING_SOURCE", "HouseholdCoverage", "OverdueVisit", "OverdueVisits", "RepeatReport",
           "Surge", "VillageCoverage",
           "city_today", "distance_m", "event_surges", "overdue_visits", "repeat_reports", "unvisited_households"]
