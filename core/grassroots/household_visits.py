"""走村不漏户、户户见干部: the visit period, the households a worker or cadre must visit, and the coverage.

    period(session, now)                       # → Period(start, end, title): this period, in the city's time
    households(session, viewer, now, ...)      # → [HouseholdRow]: address, head, members, last visit and by whom
    coverage(session, by="village", now=now, viewer=viewer)   # → [Coverage]: per village/township/county
    cadre_coverage(session, now=now, viewer=viewer)            # → [CadreCoverage]: per cadre

"户户见干部" coverage = households visited by a cadre (a visit with `visitor_post`) in the period ÷ households.
Per cadre: of the households they answer for (those of their grids; with no grid recorded, those of their post's
village or township), the share they visited themselves. Households count where they are now (their current grid
and region code). The households are counted from `household_counts` (per grid and region code, kept by the
database's triggers: migration 0031), the visited ones from the period's cadre visits alone, which carry their
household's current grid and region code (kept by triggers: migration 0038) in `ix_visits_cadre_households`:
neither reads every household of the city nor joins the visits to them (issue #20). Most windows are read from
counts the database keeps as visits are written instead (`kept_counts` says which, and why):
- a calendar month (the default period, and the dashboard's "this month"): the month's counts
  (`cadre_visit_counts`, migration 0040: a few thousand rows instead of a month's visits);
- a window from a local midnight with no cadre visit at or after its end (the dashboard's "last 30 days", chosen
  dates up to today): the households counted by the day of their last cadre visit (`cadre_last_visit_counts`,
  migration 0043), summed from the window's first day — a household was visited in such a window exactly when its
  last visit is on or after that day;
- any other window (one that later visits follow, one not starting at midnight) reads its visits.

The period is a calendar month by default; the setting `household_visit_period` ("month", "quarter" or "year")
changes it (`minqing visits period quarter`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import Float, and_, case, cast, func, or_, select, union_all
from sqlalchemy.orm import Session

from .. import city, memos, scope
from ..actors import Actor
from ..changes import record_change
from ..geo.regions import SIGNIFICANT
from ..models import (Account, Address, CadreGrid, CadreLastVisitCount, CadrePost, CadreVisitCount, Grid, House,
                     Household, HouseholdCount, Region, Resident, Setting, Visit, utcnow)

PERIOD_SETTING = "household_visit_period"
PERIODS = {"month": ("月", 1), "quarter": ("季度", 3), "year": ("年", 12)}
DEFAULT_PERIOD = "month"
LEVELS = ("village", "township", "county")


@dataclasses.dataclass(frozen=True)
class Period:
    kind: str
    start: dt.datetime   # aware UTC
    end: dt.datetime
    title: str


def period_kind(session: Session) -> str:
    row = session.get(Setting, PERIOD_SETTING)
    return row.value if row is not None and row.value in PERIODS else DEFAULT_PERIOD


def set_period_kind(session: Session, actor: Actor, kind: str) -> None:
    """Change the visit period ("month", "quarter", "year"); ValueError in Chinese for anything else."""
    if kind not in PERIODS:
        raise ValueError(f"走访周期“{kind}”无效：应为 {'、'.join(PERIODS)}")
    row = session.get(Setting, PERIOD_SETTING)
    before = row.value if row is not None else DEFAULT_PERIOD
    if row is None:
        row = Setting(name=PERIOD_SETTING, value=kind)
        session.add(row)
    row.value = kind
    record_change(session, actor, "setting.household_visit_period", object_type="setting",
                  object_id=PERIOD_SETTING, summary=f"走访周期：{PERIODS[before][0]} → {PERIODS[kind][0]}",
                  details={"before": before, "after": kind})


def period(session: Session, now: dt.datetime | None = None) -> Period:
    """The visit period `now` falls in: a calendar month (quarter, year) in the city's time zone."""
    kind = period_kind(session)
    local = city.local(now or utcnow())
    months = PERIODS[kind][1]
    first = (local.month - 1) // months * months + 1
    start = local.replace(month=first, day=1, hour=0, minute=0, second=0, microsecond=0)
    end = _months_later(start, months)
    title = {"month": f"{start.year}年{start.month}月", "quarter": f"{start.year}年第{(first + 2) // 3}季度",
             "year": f"{start.year}年"}[kind]
    return Period(kind, start.astimezone(dt.UTC), end.astimezone(dt.UTC), title)


def _months_later(start: dt.datetime, months: int) -> dt.datetime:
    """The first midnight of the month `months` after `start`'s (a local first midnight of a month)."""
    year, month = divmod(start.month - 1 + months, 12)
    return start.replace(year=start.year + year, month=month + 1)


def _household_visits(start=None, end=None):
    """The household visits from `start` (any time without) until before `end` (on without)."""
    conditions = [Visit.target_kind == "household"]
    if start is not None:
        conditions.append(Visit.visited_at >= start)
    if end is not None:
        conditions.append(Visit.visited_at < end)
    return conditions


def _cadre_visits(start, end):
    """The cadre visits of households that exist (`household_region_code` is NULL for none) in [start, end) —
    `end` None: from `start` on: the range of the partial index `ix_visits_cadre_households`, which holds each
    visited household's current grid and region code too (migration 0038)."""
    return (*_household_visits(start, end), Visit.visitor_post.is_not(None), Visit.household_region_code.is_not(None))


# -- the list of households ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class HouseholdRow:
    id: int
    number: str
    address: str
    head_name: str
    members: int
    grid_code: str | None
    last_visit_at: dt.datetime | None
    last_visitor: str | None
    visited_this_period: bool


def households(session: Session, viewer: Actor, *, now: dt.datetime | None = None, grid_ids=None,
               unvisited_only: bool = False, limit: int = 200, offset: int = 0) -> tuple[Period, list[HouseholdRow], int]:
    """(the period, a page of the households within `viewer`'s scope — of `grid_ids` when given —, how many in
    all). Not visited in the period first, then by number. "Visited" is `Household.last_visit_at` (the latest
    visit's time, whatever order the visits were recorded in); the last visitor is looked up for the page only."""
    current = period(session, now)
    members = (select(Resident.household_id, func.count().label("members")).where(Resident.household_id.is_not(None))
               .group_by(Resident.household_id).subquery())
    seen = and_(Household.last_visit_at >= current.start, Household.last_visit_at < current.end)
    statement = (select(Household.id, Household.number, Household.head_name, Household.size, Grid.code,
                        Address.text, Household.last_visit_at, members.c.members,
                        case((seen, 1), else_=0).label("seen"))
                 .outerjoin(Grid, Grid.id == Household.grid_id)
                 .outerjoin(House, House.id == Household.house_id).outerjoin(Address, Address.id == House.address_id)
                 .outerjoin(members, members.c.household_id == Household.id))
    if grid_ids is not None:
        statement = statement.where(Household.grid_id.in_(list(grid_ids) or [-1]))
    if unvisited_only:
        statement = statement.where(or_(Household.last_visit_at.is_(None), ~seen))
    statement = scope.restrict(statement, Household, viewer)
    total = session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = session.execute(statement.order_by(case((seen, 1), else_=0), Household.number)
                           .limit(limit).offset(offset)).all()
    visitors = _last_visitors(session, [row.id for row in rows])
    return current, [HouseholdRow(id=row.id, number=row.number, address=row.text or "", head_name=row.head_name,
                                  members=row.members or row.size, grid_code=row.code,
                                  last_visit_at=row.last_visit_at, last_visitor=visitors.get(row.id),
                                  visited_this_period=bool(row.seen)) for row in rows], total


def _last_visitors(session: Session, household_ids: list[int]) -> dict[int, str | None]:
    """{household id: the name of whoever made its latest visit (by visit time)} for these households."""
    if not household_ids:
        return {}
    rank = func.row_number().over(partition_by=Visit.target_id,
                                  order_by=(Visit.visited_at.desc(), Visit.id.desc())).label("rank")
    ranked = (select(Visit.target_id, Account.display_name, rank)
              .outerjoin(Account, Account.id == Visit.visitor_account_id)
              .where(*_household_visits(), Visit.target_id.in_(household_ids)).subquery())
    return dict(session.execute(select(ranked.c.target_id, ranked.c.display_name).where(ranked.c.rank == 1)).all())


# -- 户户见干部 coverage -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Coverage:
    key: str                 # the region code (12 digits) or the account id of a cadre
    households: int
    seen: int                # visited by a cadre in the period

    @property
    def rate(self) -> float | None:
        return self.seen / self.households if self.households else None


@dataclasses.dataclass(frozen=True)
class CadreCoverage(Coverage):
    account_id: int = 0
    name: str = ""
    post: str = ""
    region_id: int = 0


def seen_by_cadres(current: Period):
    """The ids of the households a cadre visited in the period (a SELECT; read by `ix_visits_kind_time`)."""
    return (select(Visit.target_id)
            .where(*_household_visits(current.start, current.end), Visit.visitor_post.is_not(None)))


def _key_of(table, by: str):
    """The grouping key of `table` (Household or HouseholdCount): its grid id (`by="grid"`, no grid → None) or
    its region code's significant digits at a level, as stored (not padded)."""
    if by == "grid":
        return func.nullif(table.grid_id, 0) if table is HouseholdCount else table.grid_id
    return func.substr(table.region_code, 1, SIGNIFICANT[by])


def _counts(session: Session, current: Period, by: str, viewer: Actor | None) -> dict:
    """{key: (households, seen by a cadre)}: the households from the maintained per-grid counts (a few thousand
    rows, not every household), the seen ones from the period's cadre visits."""
    def scoped(statement, model):
        return scope.restrict(statement, model, viewer) if viewer is not None else statement

    key = _key_of(HouseholdCount, by).label("key")
    totals = session.execute(scoped(select(key, func.sum(HouseholdCount.households)).group_by(key), HouseholdCount))
    seen = _seen(session, current, by, viewer)
    return {key: (int(households), seen.get(key, 0)) for key, households in totals if households}


def _seen(session: Session, current: Period, by: str, viewer: Actor | None) -> dict:
    """{key: households a cadre visited in the period}, by the households' current grid id or region code as
    their visits keep them: the period's range of the cadres' visit index, each household once, no join.

    Per region they are counted per village once and added up by the codes' prefix (a household lies in one
    village), kept for the session's transaction until it writes (`memos`): a dashboard asks for the same period
    twice, by county for the evaluation's column and by village for the panel."""
    memo = memos.of(session, _SEEN)
    level = "grid" if by == "grid" else "village"
    who = viewer and (viewer.account_id, viewer.grants)
    found = memo.get(wanted := (current.start, current.end, level, who))
    if found is None:
        found = _same_but_for_an_empty_end(session, memo, current, level, who)
    if found is None:
        kept = kept_counts(session, current)
        found = memo[wanted] = (_seen_kept(session, kept, level, viewer) if kept is not None
                                else _seen_live(session, current, level, viewer))
    if level == "grid" or by == "village":
        return dict(found)
    totals: dict[str, int] = {}
    for village, seen in found.items():
        totals[village[:SIGNIFICANT[by]]] = totals.get(village[:SIGNIFICANT[by]], 0) + seen
    return totals


def _seen_live(session: Session, current: Period, level: str, viewer: Actor | None) -> dict:
    """{key at `level` (grid id or village code): households a cadre visited} from the period's cadre visits."""
    key = (Visit.household_grid_id if level == "grid"
           else func.substr(Visit.household_region_code, 1, SIGNIFICANT[level])).label("key")
    visited = select(Visit.target_id, key).where(*_cadre_visits(current.start, current.end)).distinct()
    if viewer is not None:
        visited = scope.restrict(visited, scope.HouseholdPlace(Visit.household_grid_id, Visit.household_region_code),
                                 viewer)
    visited = visited.subquery()
    return dict(session.execute(select(visited.c.key, func.count()).group_by(visited.c.key)).all())


def _seen_kept(session: Session, kept: Kept, level: str, viewer: Actor | None) -> dict:
    """`_seen_live`'s figures from the window's kept counts of any cadre (account 0): a few thousand rows for a
    month, the window's days' rows since a day (grid id 0 is "no grid", None as the visits have it)."""
    model, window = kept.rows()
    key = (func.nullif(model.grid_id, 0) if level == "grid"
           else func.substr(model.region_code, 1, SIGNIFICANT[level])).label("key")
    statement = (select(key, func.sum(model.households))
                 .where(*window, model.account_id == 0, model.households > 0).group_by(key))
    if viewer is not None:
        statement = scope.restrict(statement, scope.HouseholdPlace(model.grid_id, model.region_code), viewer)
    return {key: int(seen) for key, seen in session.execute(statement)}


@dataclasses.dataclass(frozen=True)
class Kept:
    """Where a window's 户户见干部 is read from instead of its visits (`kept_counts`): a calendar month's counts
    (`month`, YYYYMM: `cadre_visit_counts`, migration 0040), or the households whose last cadre visit is on or
    after a day (`since`, YYYYMMDD: `cadre_last_visit_counts`, migration 0043)."""
    month: int | None = None
    since: int | None = None

    def rows(self):
        """(the kept counts' model, the conditions that pick the window's rows of it)."""
        if self.month is not None:
            return CadreVisitCount, (CadreVisitCount.month == self.month,)
        return CadreLastVisitCount, (CadreLastVisitCount.day >= self.since,)


def kept_counts(session: Session, current: Period) -> Kept | None:
    """Where `current`'s 户户见干部 is read from: counts the database keeps as visits are written, or None — the
    window's cadre visits, each household once (about a million at a city's volume: over a second).

    - A calendar month in the city's time (`counted_month`: to the next month's first midnight, or to an earlier
      end after which the month holds no cadre visit, as the dashboard's "this month"): the month's counts, one row
      per place — the fewest rows, so a month is read from them even when the next choice would serve.
    - A window from a local midnight after whose end no cadre visit of a household exists — the dashboard's "last
      30 days" and chosen dates up to today, since nobody has visited tomorrow (`last_visits_since`): a household
      was visited in it exactly when its last cadre visit is on or after the window's first day, so the households
      counted by their last visit's day, from that day on.
    - Any other window (one ending before visits that were made later; one not starting at midnight): None, as
      the counts cannot tell which of a household's visits fall in it.

    Neither counts is used while a cadre visit in the window was written without its month (for the month's) or
    day (for the last visits'): such a visit is not counted in them."""
    month = counted_month(session, current)
    if month is not None:
        return Kept(month=month)
    since = last_visits_since(session, current)
    return Kept(since=since) if since is not None else None


def counted_month(session: Session, current: Period) -> int | None:
    """The month (YYYYMM) whose kept counts (`cadre_visit_counts`, migration 0040) give `current`'s 户户见干部,
    or None. A calendar month in the city's time: from its first midnight to the next month's, or to an earlier
    end after which the month holds no cadre visit (the dashboard's "this month" ends tomorrow at midnight) — and
    without a cadre visit written without its month (`Visit.visit_month`)."""
    start = city.local(current.start, session)
    if start.day != 1 or start.time() != dt.time():
        return None
    end = _months_later(start, 1).astimezone(dt.UTC)
    if not current.start < current.end <= end:
        return None
    if current.end < end and _any_cadre_visit(session, current.end, end):
        return None
    if _any_cadre_visit_without(Visit.visit_month, session, current.start, end):
        return None
    return start.year * 100 + start.month


def last_visits_since(session: Session, current: Period) -> int | None:
    """The day (YYYYMMDD) from which the households' last cadre visits (`cadre_last_visit_counts`, migration
    0043) give `current`'s 户户见干部, or None: a window from a midnight in the city's time with no cadre visit of
    a household at or after its end (its households seen are those whose last visit is on or after its first
    day), and none in it written without its day (`Visit.visit_day`). One probe of an index each."""
    start = city.local(current.start, session)
    if start.time() != dt.time() or not current.start < current.end:
        return None
    if _any_cadre_visit(session, current.end, None):
        return None
    if _any_cadre_visit_without(Visit.visit_day, session, current.start, current.end):
        return None
    return city.number_of_day(start.date())


def _any_cadre_visit(session: Session, start, end) -> bool:
    """Whether a cadre visited an existing household in [start, end) (`end` None: from `start` on): one probe of
    the cadres' visit index."""
    return session.scalar(select(Visit.id).where(*_cadre_visits(start, end)).limit(1)) is not None


def _any_cadre_visit_without(column, session: Session, start, end) -> bool:
    """Whether a cadre's household visit in [start, end) was written without `column` (its month or day): one
    probe of its partial index (`ix_visits_cadre_without_month`, `_day`), empty normally."""
    written_without = (Visit.target_kind == "household", Visit.visitor_post.is_not(None), column.is_(None),
                       Visit.visited_at >= start, Visit.visited_at < end)
    return session.scalar(select(Visit.id).where(*written_without).limit(1)) is not None


def _same_but_for_an_empty_end(session: Session, memo: dict, current: Period, level: str, who) -> dict | None:
    """The figures already counted for a window with the same start whose end differs from `current`'s only by a
    stretch without any cadre visit of a household: the same figures. The dashboard's "this month" ends tomorrow
    at midnight and the visit period at the month's end; nobody has visited the days to come, so one count serves
    both (one index probe instead of a second pass over a month's visits)."""
    for (start, end, known_level, known_who), found in list(memo.items()):
        if (start, known_level, known_who) != (current.start, level, who) or end == current.end:
            continue
        low, high = min(end, current.end), max(end, current.end)
        if not _any_cadre_visit(session, low, high):
            memo[(current.start, current.end, level, who)] = found
            return found
    return None


_SEEN = "minqing.household_visits.seen"   # the session's memo (core.memos): the seen households of a period


def coverage(session: Session, *, by: str = "village", now: dt.datetime | None = None,
             viewer: Actor | None = None, current: Period | None = None) -> list[Coverage]:
    if by not in LEVELS:
        raise ValueError(f"unknown level {by!r}; use one of {LEVELS}")
    current = current or period(session, now)
    return [Coverage(key=(key or "").ljust(12, "0"), households=households, seen=seen)
            for key, (households, seen) in sorted(_counts(session, current, by, viewer).items())]


def roll_up(rows: list[Coverage], by: str) -> list[Coverage]:
    """Coverage rows of a lower level (say the villages') added up per region at `by` (township, county), by the
    codes' prefix — the same figures as `coverage(by=by)` without another query."""
    digits = SIGNIFICANT[by]
    totals: dict[str, list[int]] = {}
    for row in rows:
        total = totals.setdefault(row.key[:digits].ljust(12, "0"), [0, 0])
        total[0] += row.households
        total[1] += row.seen
    return [Coverage(key=key, households=households, seen=seen) for key, (households, seen) in sorted(totals.items())]


def coverage_counts(session: Session, *, current: Period, by: str = "grid", viewer: Actor | None = None) -> dict:
    """{key: (households, seen by a cadre)} per grid id (`by="grid"`) or per region prefix at a level (city,
    county, township, village: the code's significant digits, as stored — not padded)."""
    return _counts(session, current, by, viewer)


def _same_region(level: str, region_code):
    """A row's `region_code` lies in its cadre post's region (joined as Region) at `level`: the codes'
    significant digits compared as an equality, which the database hashes."""
    digits = SIGNIFICANT[level]
    return and_(Region.level == level, func.substr(region_code, 1, digits) == func.substr(Region.code, 1, digits))


def _in_post_region(region_code):
    return or_(*(_same_region(level, region_code) for level in ("village", "township")))


def _without_grids():
    return CadrePost.id.not_in(select(CadreGrid.cadre_post_id))


def _responsible_households():
    """(cadre post id, households they answer for): those of their grids, or with no grid recorded, those of
    their post's village or township — added up from the per-grid counts."""
    households = func.sum(HouseholdCount.households).label("households")
    by_grid = (select(CadreGrid.cadre_post_id.label("post_id"), households)
               .join(HouseholdCount, HouseholdCount.grid_id == CadreGrid.grid_id).group_by(CadreGrid.cadre_post_id))
    by_region = [select(CadrePost.id.label("post_id"), households)
                 .join(Region, Region.id == CadrePost.region_id)
                 .join(HouseholdCount, _same_region(level, HouseholdCount.region_code))
                 .where(_without_grids()).group_by(CadrePost.id) for level in ("village", "township")]
    return union_all(by_grid, *by_region).subquery()


def _own_visits(current: Period, kept: Kept | None):
    """(account id, grid id, region code, households that cadre visited themselves there in the period): from the
    window's kept counts per cadre account when there are some (`kept_counts`: a few thousand rows for a month,
    the window's days' rows since a day); else one pass over the period's cadre visits (the index alone: each
    carries its household's current grid and region code), counted per visitor and place (a household has one
    place)."""
    if kept is not None:   # grid id 0 ("no grid") joins no cadre's grid, as NULL does not
        model, window = kept.rows()
        return (select(model.account_id, model.grid_id, model.region_code,
                       func.sum(model.households).label("households"))
                .where(*window, model.account_id != 0, model.households > 0)
                .group_by(model.account_id, model.grid_id, model.region_code).subquery())
    pairs = (select(Visit.visitor_account_id.label("account_id"), Visit.target_id.label("household_id"),
                    Visit.household_grid_id.label("grid_id"), Visit.household_region_code.label("region_code"))
             .where(*_cadre_visits(current.start, current.end)).distinct().subquery())
    return (select(pairs.c.account_id, pairs.c.grid_id, pairs.c.region_code, func.count().label("households"))
            .group_by(pairs.c.account_id, pairs.c.grid_id, pairs.c.region_code).subquery())


def _seen_by_own_cadre(current: Period, kept: Kept | None):
    """(cadre post id, how many of the households they answer for they visited themselves in the period): each
    cadre's visited households per place (`_own_visits`) checked against the post's grids (or, with none, its
    region): the posts join a few thousand rows."""
    own = _own_visits(current, kept)
    statement = (select(CadrePost.id.label("post_id"), func.sum(own.c.households).label("seen")).select_from(own)
                 .join(CadrePost, CadrePost.account_id == own.c.account_id)
                 .join(Region, Region.id == CadrePost.region_id)
                 .outerjoin(CadreGrid, and_(CadreGrid.cadre_post_id == CadrePost.id,
                                            CadreGrid.grid_id == own.c.grid_id))
                 .where(or_(CadreGrid.cadre_post_id.is_not(None),
                            and_(_without_grids(), _in_post_region(own.c.region_code))))
                 .group_by(CadrePost.id))
    return statement.subquery()


def cadre_coverage(session: Session, *, now: dt.datetime | None = None, viewer: Actor | None = None,
                   current: Period | None = None, lowest: int | None = None) -> list[CadreCoverage]:
    """Per cadre: households they answer for, and of them the ones they visited themselves in the period, by
    post region and name. Within `viewer`'s scope: the cadres whose post lies in a region the viewer sees.
    `lowest`: only that many, the lowest coverage first (no households counts as 0), then by name — chosen by the
    database (the dashboard shows a hundred of a city's eight thousand cadres)."""
    current = current or period(session, now)
    responsible, seen = _responsible_households(), _seen_by_own_cadre(current, kept_counts(session, current))
    households = func.coalesce(responsible.c.households, 0)
    seen_count = func.coalesce(seen.c.seen, 0)
    statement = (select(CadrePost.id, CadrePost.account_id, CadrePost.post, CadrePost.region_id,
                        Account.display_name, households.label("households"), seen_count.label("seen"))
                 .join(Account, Account.id == CadrePost.account_id)
                 .outerjoin(responsible, responsible.c.post_id == CadrePost.id)
                 .outerjoin(seen, seen.c.post_id == CadrePost.id))
    if lowest is not None:
        # the same float division as `Coverage.rate` (IEEE doubles on every backend), names in code-point order
        # (C.UTF-8 on PostgreSQL, BINARY on SQLite) as Python compares them
        rate = case((households > 0, cast(seen_count, Float) / cast(households, Float)), else_=0.0)
        statement = statement.order_by(rate, Account.display_name, CadrePost.region_id, CadrePost.id).limit(lowest)
    else:
        statement = statement.order_by(CadrePost.region_id, Account.display_name)
    if viewer is not None:
        statement = statement.where(CadrePost.region_id.in_(scope.restrict(select(Region.id), Region, viewer)))
    return [CadreCoverage(key=str(row.account_id), households=int(row.households), seen=int(row.seen),
                          account_id=row.account_id, name=row.display_name, post=row.post, region_id=row.region_id)
            for row in session.execute(statement)]


__all__ = ["CadreCoverage", "Coverage", "HouseholdRow", "PERIODS", "PERIOD_SETTING", "Period", "cadre_coverage",
           "coverage", "coverage_counts", "households", "period", "roll_up",
           "set_period_kind"]
