"""预警 (early warnings) for the management dashboard, each one set-based query within the viewer's scope.

- `event_surges`: a category of cases in one grid (or village) whose count in the last `recent_days` days is
  at least `minimum` and exceeds `factor` times what its own daily rate over the `baseline_days` days before
  would predict for those days (recent × baseline_days > factor × baseline × recent_days). An area with no
  such cases in the baseline fires as soon as it reaches `minimum`.
- `overdue_visits`: key persons and key places whose next visit was due before today (in the city's time).
- `unvisited_households`: households never visited (last_visit_at is null), counted per village — 走村不漏户.

Every query goes through `scope.restrict`; the functions take settings as arguments, so a page, a periodic
task or a test can tune them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from . import scope
from .actors import Actor
from .models import Case, Household, KeyPerson, KeyPlace, utcnow
from .regions import SIGNIFICANT

CITY_TIMEZONE = ZoneInfo("Asia/Shanghai")
VOID = "voided"
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


__all__ = ["AREAS", "HouseholdCoverage", "OverdueVisit", "OverdueVisits", "Surge", "VillageCoverage",
           "city_today", "event_surges", "overdue_visits", "unvisited_households"]
