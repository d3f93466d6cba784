"""The dashboard's numbers: each one GROUP BY within the viewer's scope (core.scope), never a loop over rows.

The indicators and the per-department and per-region counts come from `workflows.evaluation`; this module adds
what evaluation does not answer (daily trends, themes, the overdue list, grid colours) and the names to show.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import re

from sqlalchemy import Date, Interval, case, cast, func, literal, select
from sqlalchemy.orm import Session

from minqing.core import city, scope
from minqing.core.actors import Actor
from minqing.core.models import Case, Department, Grid, Region, Role
from minqing.core.geo.regions import LEVELS, SIGNIFICANT, level_of
from minqing.workflows import Indicators, rankings, total_indicators

FINAL = ("closed", "voided")
COLOURS = ("red", "yellow", "blue")
GRID_LEVELS = ("large", "medium", "small")


def local_day(session: Session, column):
    """The city's calendar date of a UTC timestamp column: a date on PostgreSQL, 'YYYY-MM-DD' text on SQLite
    (`str()` of either is the ISO date).

    The city's offset is fixed (`minqing init` refuses zones with daylight saving), so adding it to the UTC time
    gives the local wall time; it is a bound parameter, the same statement for every city. On PostgreSQL a cast to
    date, not `to_char`: formatting each of a month's cases as text took twice as long as grouping them."""
    offset = city.offset(session)
    if session.get_bind().dialect.name == "postgresql":  # the column is a timestamp without zone, in UTC
        return cast(column + literal(offset, Interval()), Date)
    return func.date(column, literal(f"{int(offset.total_seconds()) // 60:+d} minutes"))


# -- where the viewer stands ------------------------------------------------------------------------------

def viewer_region(session: Session, viewer: Actor) -> Region | None:
    """The region the viewer's dashboard covers: an admin's is the top region; a leader's or operator's is
    their region (for several, the lowest region containing them all)."""
    codes = [grant.region_code for grant in viewer.grants
             if grant.role in (Role.LEADER, Role.OPERATOR) and grant.region_code]
    if viewer.has_role(Role.ADMIN) or not codes:
        if not viewer.has_role(Role.ADMIN):
            return None
        return session.scalar(select(Region).where(Region.parent_id.is_(None)).order_by(Region.code).limit(1))
    code = codes[0]
    for other in codes[1:]:
        code = _common_ancestor(code, other)
    return session.scalar(select(Region).where(Region.code == code)) if code else None


def _common_ancestor(first: str, second: str) -> str | None:
    for level in reversed(LEVELS[:LEVELS.index(level_of(first)) + 1]):
        width = SIGNIFICANT[level]
        if first[:width] == second[:width]:
            return first[:width].ljust(12, "0")
    return None


def child_level(region: Region | None) -> str:
    """The level one below the viewer's region (the county level for a city, the village for a township)."""
    if region is None:
        return "county"
    index = LEVELS.index(region.level)
    return LEVELS[min(index + 1, len(LEVELS) - 1)]


def region_names(session: Session, codes) -> dict[str, str]:
    codes = [code for code in set(codes) if code]
    if not codes:
        return {}
    return dict(session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all())


def department_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Department.id, Department.short_name)).all())


def region_label(code: str | None, names: dict[str, str], level: str) -> str:
    """A region key of an evaluation row as a name; a case placed only above `level` is marked 本级."""
    if not code:
        return "未定位"
    name = names.get(code, code)
    return name if level_of(code) == level else f"{name}（本级）"


# -- indicators -----------------------------------------------------------------------------------------------

def total_of(rows: list[Indicators]) -> Indicators:
    """The indicators of all rows together: counts are summed, then divided."""
    return total_indicators(rows)


def ranked(rows: list[Indicators]) -> list[Indicators]:
    """Best first, by the rule of the published rankings (workflows.rankings.order)."""
    return rankings.order(rows)


# -- counts of cases ---------------------------------------------------------------------------------------------

def daily_trend(session: Session, viewer: Actor, *, days: int = 30, today: dt.date | None = None):
    """(day labels, reported per day, closed per day) for the last `days` days in the city, today included."""
    from .periods import local_midnight

    today = today or city.today(session)
    first = today - dt.timedelta(days=days - 1)
    start = local_midnight(first, session)
    series = []
    for column, extra in ((Case.created_at, Case.status != "voided"), (Case.closed_at, Case.closed_at.is_not(None))):
        day = local_day(session, column).label("day")
        statement = (select(day, func.count()).where(column >= start, extra).group_by(day))
        counts = {str(key): count for key, count in session.execute(scope.restrict(statement, Case, viewer))}
        series.append(counts)
    dates = [first + dt.timedelta(days=n) for n in range(days)]
    return ([f"{d:%m-%d}" for d in dates], [series[0].get(d.isoformat(), 0) for d in dates],
            [series[1].get(d.isoformat(), 0) for d in dates])


def by_theme(session: Session, viewer: Actor, start: dt.datetime, end: dt.datetime) -> list[tuple[str, int]]:
    """(theme key, cases reported in the period), most first."""
    count = func.count().label("count")
    statement = (select(Case.theme_key, count)
                 .where(Case.created_at >= start, Case.created_at < end, Case.status != "voided")
                 .group_by(Case.theme_key).order_by(count.desc(), Case.theme_key))
    return [(key, n) for key, n in session.execute(scope.restrict(statement, Case, viewer))]


def open_counts(session: Session, viewer: Actor, now: dt.datetime) -> tuple[int, int]:
    """(open cases, open cases past the deadline of their current step)."""
    overdue = func.sum(case((Case.state_deadline_at < now, 1), else_=0))
    row = session.execute(scope.restrict(
        select(func.count(), overdue).where(Case.status.not_in(FINAL)), Case, viewer)).one()
    return int(row[0] or 0), int(row[1] or 0)


def overdue_cases(session: Session, viewer: Actor, now: dt.datetime, limit: int = 20) -> list[Case]:
    """Open cases past `state_deadline_at`, the longest overdue first."""
    statement = (select(Case).where(Case.status.not_in(FINAL), Case.state_deadline_at < now)
                 .order_by(Case.state_deadline_at, Case.id).limit(limit))
    return list(session.scalars(scope.restrict(statement, Case, viewer)))


# -- grid colours ---------------------------------------------------------------------------------------------

_REASON_COUNT = re.compile(r"\s*\d+\s*\S*$")


@dataclasses.dataclass
class ColourSummary:
    counts: dict[str, int]                       # colour → grids (all levels)
    by_level: dict[str, dict[str, int]]          # level → colour → grids
    reasons: dict[str, list[tuple[str, int]]]    # red/yellow → (reason, grids), most first

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def grid_colours(session: Session, viewer: Actor, top: int = 3) -> ColourSummary:
    """Grids by colour and level, and the most frequent reasons of red and yellow grids."""
    by_level = {level: {colour: 0 for colour in COLOURS} for level in GRID_LEVELS}
    counts = {colour: 0 for colour in COLOURS}
    statement = select(Grid.level, Grid.colour, func.count()).group_by(Grid.level, Grid.colour)
    for level, colour, count in session.execute(scope.restrict(statement, Grid, viewer)):
        by_level.setdefault(level, {c: 0 for c in COLOURS})[colour] = count
        counts[colour] = counts.get(colour, 0) + count
    # Reasons carry counts ("超期未办结事件 3 件；高风险重点人员 1 人"): group the texts in SQL, then fold the
    # few distinct texts into kinds ("超期未办结事件") here.
    reasons = {colour: collections.Counter() for colour in ("red", "yellow")}
    statement = (select(Grid.colour, Grid.colour_reason, func.count()).where(Grid.colour.in_(("red", "yellow")))
                 .group_by(Grid.colour, Grid.colour_reason))
    for colour, text, count in session.execute(scope.restrict(statement, Grid, viewer)):
        for part in filter(None, (piece.strip() for piece in re.split(r"[；;]", text or ""))):
            reasons[colour][_REASON_COUNT.sub("", part) or part] += count
    return ColourSummary(counts=counts, by_level=by_level,
                         reasons={colour: counter.most_common(top) for colour, counter in reasons.items()})


__all__ = ["ColourSummary", "by_theme", "child_level", "daily_trend", "department_names", "grid_colours",
           "local_day", "open_counts", "overdue_cases", "ranked", "region_label",
           "region_names", "total_of", "viewer_region"]
