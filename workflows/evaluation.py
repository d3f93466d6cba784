"""考核评价: the loop's indicators per department, region or grid over a period, in one GROUP BY.

Formulas (docs/evaluation.md): the population is the cases reported in [start, end), void cases excluded;
a case's state is judged as of `as_of` (default: now).
- 及时受理率 = accepted by the acceptance deadline / cases whose acceptance was due (accepted, or deadline passed)
- 按期办结率 = closed by the due time / cases whose closure was due (closed, or due time passed)
- 超期件数 = closed after the due time + still open past the due time
- 返工率 = cases reworked at least once / cases with handling feedback
- 满意率 = cases whose latest follow-up rating is 满意 or 基本满意 (score ≥ 3) / rated cases
- 平均处置时长 = mean hours from report to close, over closed cases
- 准确派遣率 = dispatched cases never returned (退回) / dispatched cases; 退回率 = the returned share
- 重复件数 = cases of the period merged into another (重复件); they leave the population of every other indicator
  (their master counts once); 重复件占比 = 重复件数 / (the population + 重复件数)
- 数据鲜活度 (by department) = the department's theme records created, updated or patrolled within their theme's
  period / its records, as of the period's end (themes/freshness.py)
- 户户见干部 (by region and grid) = the households a cadre visited in [start, end) / the households
  (core/household_visits.py; counted for the groups that have cases)
- 响应率 (12345) = cases accepted within `response_hours` (default 2) of their report / cases
- 解决率 (12345) = closed cases whose latest follow-up rating is not 不满意 / closed cases
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import operator

from sqlalchemy import and_, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.models import Case, CaseEvent, CaseMilestone, Supervision, utcnow
from minqing.core.geo.regions import SIGNIFICANT
from minqing.core.scope import restrict

DIMENSIONS = ("department", "region", "grid", "channel")
RESPONSE_HOURS = 2.0   # 12345's response limit; an assessment scheme may set another


@dataclasses.dataclass(frozen=True)
class Indicators:
    key: int | str | None
    reported: int
    acceptance_due: int
    accepted_on_time: int
    closure_due: int
    closed_on_time: int
    overdue: int
    with_feedback: int
    reworked: int
    rated: int
    satisfied: int
    closed: int
    handling_seconds: float
    dispatched: int = 0
    returned: int = 0      # dispatched cases a department returned (退回) at least once
    duplicates: int = 0    # 重复件: cases merged into another, outside every other count
    records: int = 0       # the department's theme records (数据鲜活度, by department only; themes/freshness.py)
    fresh_records: int = 0  # of them, created, updated or patrolled within their theme's period
    households: int = 0    # 户户见干部 (by region and grid; core/household_visits.py): the households
    cadre_visited: int = 0  # of them, visited by a cadre in the period
    responded: int = 0     # 响应率 (12345): accepted within the response limit of the report (`response_hours`)
    solved: int = 0        # 解决率 (12345): closed cases whose latest follow-up did not rate them 不满意
    supervised: int = 0    # cases a higher level supervised (督办) at least once
    overdue_reworked: int = 0  # cases re-handled (重办) and overdue: a deduction in the assessment schemes

    @classmethod
    def added(cls, key, rows) -> Indicators:
        """The counts of several rows summed (rates are then computed over the union, never averaged). Column
        by column from one tuple per row: a city's 17,965 grid workers each add up their grids."""
        columns = zip(*map(_counts_of, rows))
        return cls(key=key, **dict(zip(_ADDED, [sum(column) for column in columns] or [0] * len(_ADDED))))

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def timely_acceptance_rate(self) -> float | None:
        return self._rate(self.accepted_on_time, self.acceptance_due)

    @property
    def on_time_closure_rate(self) -> float | None:
        return self._rate(self.closed_on_time, self.closure_due)

    @property
    def rework_rate(self) -> float | None:
        return self._rate(self.reworked, self.with_feedback)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate(self.satisfied, self.rated)

    @property
    def dispatch_accuracy(self) -> float | None:
        """准确派遣率: the share of dispatched cases no department returned."""
        return self._rate(self.dispatched - self.returned, self.dispatched)

    @property
    def return_rate(self) -> float | None:
        """退回率: the share of dispatched cases returned at least once."""
        return self._rate(self.returned, self.dispatched)

    @property
    def duplicate_share(self) -> float | None:
        """重复件占比: merged duplicates among all the period's (non-void) reports."""
        return self._rate(self.duplicates, self.reported + self.duplicates)

    @property
    def freshness_rate(self) -> float | None:
        """数据鲜活度: the share of the department's records touched within their period."""
        return self._rate(self.fresh_records, self.records)

    @property
    def cadre_coverage_rate(self) -> float | None:
        """户户见干部: the share of households a cadre visited in the period."""
        return self._rate(self.cadre_visited, self.households)

    @property
    def response_rate(self) -> float | None:
        """响应率 as 12345 defines it: cases accepted within the response limit / cases."""
        return self._rate(self.responded, self.reported)

    @property
    def resolution_rate(self) -> float | None:
        """解决率 as 12345 defines it: cases closed as solved / closed cases."""
        return self._rate(self.solved, self.closed)

    @property
    def average_handling_hours(self) -> float | None:
        return self.handling_seconds / self.closed / 3600 if self.closed else None


_ADDED = tuple(field.name for field in dataclasses.fields(Indicators) if field.name != "key")
_counts_of = operator.attrgetter(*_ADDED)


def total(rows: list[Indicators]) -> Indicators:
    """The indicators of several rows together (a whole region, every department): counts summed, rates after."""
    return Indicators.added(None, rows)


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def seconds_between(session: Session, later, earlier):
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def dimension(by: str, region_level: str = "county"):
    if by == "department":
        return Case.department_id
    if by == "grid":
        return Case.grid_id
    if by == "channel":   # the intake channel (workflows/channels.py, docs/channels.md)
        return Case.channel
    if by == "region":
        return func.substr(Case.region_code, 1, SIGNIFICANT[region_level])
    raise ValueError(f"unknown dimension {by!r}; use one of {DIMENSIONS}")


def population(start: dt.datetime, end: dt.datetime):
    """The conditions of the population: reported in [start, end), neither void nor a merged duplicate (the
    statement joins `case_milestones`)."""
    return (Case.created_at >= start, Case.created_at < end, func.coalesce(CaseMilestone.voided, False).is_(False),
            Case.merged_into_id.is_(None))


def milestones_of(start: dt.datetime, end: dt.datetime):
    """The join condition of the period's cases to their milestones: the key, and the case's time the milestone
    carries (migration 0044) in the period too — the same rows, read as a range of the period's milestones
    (`ix_case_milestones_case_created_at`) rather than every milestone of the city."""
    m = CaseMilestone
    return and_(m.case_id == Case.id, m.case_created_at >= start, m.case_created_at < end)


def statement(session: Session, *, by: str, start: dt.datetime, end: dt.datetime, as_of: dt.datetime,
              region_level: str = "county", viewer: Actor | None = None, excluded_case_ids=None,
              response_hours: float = RESPONSE_HOURS):
    """`excluded_case_ids` (ids, or a SELECT of case ids) leave the population: approved appeals (申诉) use it
    for the department ranking (workflows/rankings.py). `response_hours` is 响应率's limit (wall-clock hours
    from report to acceptance; an assessment scheme sets it, workflows/schemes.py)."""
    return _statement(session, [dimension(by, region_level).label("key")], start=start, end=end, as_of=as_of,
                      viewer=viewer, excluded_case_ids=excluded_case_ids, response_hours=response_hours)


def _statement(session: Session, keys: list, *, start, end, as_of, viewer, excluded_case_ids, response_hours):
    """The counts grouped by `keys` (labelled columns), ordered by them."""
    m = CaseMilestone
    closed = Case.closed_at.is_not(None)
    late_close = and_(closed, Case.closed_at > Case.due_at)
    late_open = and_(Case.closed_at.is_(None), Case.due_at <= as_of)
    dispatched = m.dispatched_at.is_not(None)
    # 退回 and 督办 as one aggregated subquery each, joined once: a correlated EXISTS per case made the statement
    # 2–3× the same GROUP BY without it. Grouped by case id, each holds a case once: the join repeats no case.
    # 'return' as a literal, not a bound parameter: only so can the partial index of returns serve it (cases.py)
    returns = (select(CaseEvent.case_id).where(CaseEvent.action == literal_column("'return'"))
               .group_by(CaseEvent.case_id)
               .subquery("returned_cases"))
    supervisions = select(Supervision.case_id).group_by(Supervision.case_id).subquery("supervised_cases")
    returned = returns.c.case_id.is_not(None)
    supervised = supervisions.c.case_id.is_not(None)
    overdue = or_(late_close, late_open)
    query = (select(
        *keys, func.count().label("reported"),
        _count(or_(m.accepted_at.is_not(None), m.accept_deadline_at <= as_of)).label("acceptance_due"),
        _count(m.accepted_at <= m.accept_deadline_at).label("accepted_on_time"),
        _count(or_(closed, Case.due_at <= as_of)).label("closure_due"),
        _count(and_(closed, or_(Case.due_at.is_(None), Case.closed_at <= Case.due_at))).label("closed_on_time"),
        _count(overdue).label("overdue"),
        _count(m.feedback_at.is_not(None)).label("with_feedback"),
        _count(Case.rework_count > 0).label("reworked"),
        _count(m.rating.is_not(None)).label("rated"),
        _count(m.satisfied.is_(True)).label("satisfied"),
        _count(closed).label("closed"),
        _count(dispatched).label("dispatched"),
        _count(and_(dispatched, returned)).label("returned"),
        _count(seconds_between(session, m.accepted_at, Case.created_at) <= response_hours * 3600 + 0.5)  # julianday rounding
              .label("responded"),
        _count(and_(closed, func.coalesce(m.satisfied, True).is_(True))).label("solved"),
        _count(supervised).label("supervised"),
        _count(and_(Case.rework_count > 0, overdue)).label("overdue_reworked"),
        func.coalesce(func.sum(case((closed, seconds_between(session, Case.closed_at, Case.created_at)), else_=literal(0))),
                      0).label("handling_seconds"))
        .select_from(Case).outerjoin(m, milestones_of(start, end))
        .outerjoin(returns, returns.c.case_id == Case.id).outerjoin(supervisions, supervisions.c.case_id == Case.id)
        .where(*population(start, end))
        .group_by(*keys).order_by(*keys))
    if excluded_case_ids is not None:
        query = query.where(Case.id.not_in(excluded_case_ids))
    return restrict(query, Case, viewer) if viewer is not None else query


def evaluate(session: Session, *, by: str, start: dt.datetime, end: dt.datetime, as_of: dt.datetime | None = None,
             region_level: str = "county", viewer: Actor | None = None,
             excluded_case_ids=None, response_hours: float = RESPONSE_HOURS) -> list[Indicators]:
    """Indicators per `by` ("department", "region" at `region_level`, "grid") for cases reported in
    [start, end), within `viewer`'s scope when given."""
    result = session.execute(statement(session, by=by, start=start, end=end, as_of=as_of or utcnow(),
                                       region_level=region_level, viewer=viewer,
                                       excluded_case_ids=excluded_case_ids, response_hours=response_hours))
    # by position, not by name: a Row's attribute lookup per count was most of the Python for 7,505 grids
    counts = operator.itemgetter(*(list(result.keys()).index(name) for name in _COUNTS))
    found = {row[0]: dict(zip(_COUNTS, [value if value.__class__ is int else _number(value)
                                        for value in counts(row)])) for row in result}
    return _completed(session, found, by=by, start=start, end=end, as_of=as_of, region_level=region_level,
                      viewer=viewer)


def evaluate_many(session: Session, dimensions: dict[str, tuple[str, str]], *, start: dt.datetime,
                  end: dt.datetime, as_of: dt.datetime | None = None, viewer: Actor | None = None,
                  response_hours: float = RESPONSE_HOURS) -> dict[str, list[Indicators]]:
    """`evaluate` for several dimensions of one period at once (the dashboard's departments, regions and
    channels): `dimensions` maps a name to (`by`, `region_level`). The period's cases are read once, grouped by
    every dimension's key together, and each dimension's counts are those groups added up: every count is a sum,
    so each list equals `evaluate`'s (the rows in the same order)."""
    labelled = {name: dimension(by, level).label(f"key_{index}")
                for index, (name, (by, level)) in enumerate(dimensions.items())}
    rows = session.execute(_statement(session, list(labelled.values()), start=start, end=end,
                                      as_of=as_of or utcnow(), viewer=viewer, excluded_case_ids=None,
                                      response_hours=response_hours)).all()
    found: dict[str, dict] = {name: {} for name in dimensions}
    nulls_first = session.get_bind().dialect.name == "sqlite"   # each dialect's ORDER BY, as evaluate's rows come

    def order(item):
        return (item[0] is None) != nulls_first, item[0] if item[0] is not None else 0

    for row in rows:   # exact sums: PostgreSQL's seconds are numeric (Decimal) until the last step, as evaluate's
        counts = [getattr(row, name) or 0 for name in _COUNTS]
        for name, key in labelled.items():
            group = found[name].setdefault(getattr(row, key.name), [0] * len(_COUNTS))
            for index, value in enumerate(counts):
                group[index] += value
    return {name: _completed(session, {key: {count: _number(value) for count, value in zip(_COUNTS, values)}
                                       for key, values in sorted(found[name].items(), key=order)},
                             by=by, start=start, end=end, as_of=as_of, region_level=level, viewer=viewer)
            for name, (by, level) in dimensions.items()}


def _completed(session: Session, found: dict, *, by, start, end, as_of, region_level, viewer) -> list[Indicators]:
    """The groups' counts with the duplicates, freshness and coverage of each key added."""
    duplicates = _duplicates(session, by=by, start=start, end=end, region_level=region_level, viewer=viewer)
    for key in duplicates.keys() - found.keys():   # a group whose every report was merged elsewhere
        found[key] = dict.fromkeys(_COUNTS, 0)
    fresh = _freshness(session, by=by, as_of=min(end, as_of or utcnow()), viewer=viewer)
    covered = _coverage(session, by=by, start=start, end=end, region_level=region_level, viewer=viewer)
    rows, none = [], (0, 0)
    for key, counts in found.items():
        records, fresh_records = fresh.get(key, none)
        households, cadre_visited = covered.get(key, none)
        rows.append(Indicators(key=_key(key, by), duplicates=duplicates.get(key, 0), records=records,
                               fresh_records=fresh_records, households=households, cadre_visited=cadre_visited,
                               **counts))
    return rows


def _coverage(session: Session, *, by, start, end, region_level, viewer) -> dict:
    """户户见干部 per region prefix or grid id: (households, visited by a cadre in [start, end))."""
    if by not in ("region", "grid"):
        return {}
    from minqing.core.grassroots import household_visits

    window = household_visits.Period("evaluation", start, end, "")
    return household_visits.coverage_counts(session, current=window, by="grid" if by == "grid" else region_level,
                                            viewer=viewer)


def _freshness(session: Session, *, by, as_of, viewer) -> dict:
    """数据鲜活度 per department (records, fresh records) as of the period's end; other dimensions have none."""
    if by != "department":
        return {}
    from minqing.themes import freshness   # themes sits beside workflows; imported when used

    return freshness.by_department_id(session, now=as_of, viewer=viewer)


def _duplicates(session: Session, *, by, start, end, region_level, viewer) -> dict:
    """重复件数 per key: the period's cases merged into another (void ones are never merged)."""
    key = dimension(by, region_level).label("key")
    # Merged cases are few: read them through the index on merged_into_id (the IN makes SQLite use it; it would
    # otherwise walk the period's cases by created_at). Kept apart from the main statement: counted there, every
    # other count would need its own "not merged" guard, and SQLite then loses the plan of the main query.
    merged = select(Case.id).where(Case.merged_into_id.is_not(None))
    query = (select(key, func.count()).select_from(Case)
             .where(Case.id.in_(merged), Case.created_at >= start, Case.created_at < end)
             .group_by(key))
    if viewer is not None:
        query = restrict(query, Case, viewer)
    return {row[0]: row[1] for row in session.execute(query)}


_COUNTS = ("reported", "acceptance_due", "accepted_on_time", "closure_due", "closed_on_time", "overdue",
           "with_feedback", "reworked", "rated", "satisfied", "closed", "handling_seconds", "dispatched",
           "returned", "responded", "solved", "supervised", "overdue_reworked")


def _number(value):
    if value is None:
        return 0
    return float(value) if not isinstance(value, int) else value


def _key(value, by: str):
    if by == "region" and value:
        return value.ljust(12, "0")
    return value


__all__ = ["DIMENSIONS", "Indicators", "evaluate", "evaluate_many", "milestones_of", "population", "seconds_between", "statement", "total"]
