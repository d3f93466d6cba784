"""数据鲜活度 (data freshness): how much of a department's ledger is current.

A record is fresh when it was created, updated or patrolled within its theme's period: the theme's
``patrol_every_days``, or `DEFAULT_DAYS` for a theme without one. A record none of whose three moments falls within
the last year is untouched (一年未更新). Periods come from each theme's newest published version (`ThemeVersion`),
so the figures need no plugin host and a ranking can compute them; retired records (``retired_at``, when the
column exists) are left out.

One GROUP BY answers every department and theme (`freshness`); `by_department_id` is the same, added up per
department, for the evaluation's indicator; `untouched` lists the untouched records, oldest first.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from minqing.core import scope
from minqing.core.actors import Actor
from minqing.core.models import Department, ThemeRecord, utcnow

from .patrols import record_title
from .versions import latest_versions

DEFAULT_DAYS = 365
UNTOUCHED_DAYS = 365


@dataclasses.dataclass(frozen=True)
class Freshness:
    department_key: str
    theme_key: str
    period_days: int
    records: int
    fresh: int
    untouched: int       # no creation, update or patrol within a year

    @property
    def rate(self) -> float | None:
        return self.fresh / self.records if self.records else None


@dataclasses.dataclass(frozen=True)
class Untouched:
    record_id: int
    title: str
    department_key: str
    theme_key: str
    last_touched: dt.datetime


def periods(session: Session) -> dict[str, int]:
    """Each published theme's period in days: its ``patrol_every_days``, else `DEFAULT_DAYS`."""
    return {key: int(version.document.get("patrol_every_days") or DEFAULT_DAYS)
            for key, version in latest_versions(session).items()}


def _touched_since(moment: dt.datetime):
    return or_(ThemeRecord.created_at >= moment, ThemeRecord.updated_at >= moment,
               ThemeRecord.last_patrolled_at >= moment)


def fresh_condition(periods_: dict[str, int], now: dt.datetime):
    """One SQL condition: touched within the period of the record's theme (the default for unknown themes)."""
    by_days: dict[int, list[str]] = {}
    for key, days in periods_.items():
        by_days.setdefault(days, []).append(key)
    clauses = [and_(ThemeRecord.theme_key.in_(keys), _touched_since(now - dt.timedelta(days=days)))
               for days, keys in by_days.items() if days != DEFAULT_DAYS]
    others = [key for key, days in periods_.items() if days != DEFAULT_DAYS]
    default = _touched_since(now - dt.timedelta(days=DEFAULT_DAYS))
    clauses.append(and_(ThemeRecord.theme_key.not_in(others), default) if others else default)
    return or_(*clauses)


def untouched_condition(now: dt.datetime):
    return ~func.coalesce(_touched_since(now - dt.timedelta(days=UNTOUCHED_DAYS)), false())


def _live(statement):
    column = getattr(ThemeRecord, "retired_at", None)
    return statement if column is None else statement.where(column.is_(None))


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def freshness(session: Session, viewer: Actor | None, now: dt.datetime | None = None) -> list[Freshness]:
    """Per department and theme, within the viewer's scope (everything when `viewer` is None)."""
    now = now or utcnow()
    periods_ = periods(session)
    statement = _live(select(ThemeRecord.department_key, ThemeRecord.theme_key, func.count(),
                             _count(fresh_condition(periods_, now)), _count(untouched_condition(now)))
                      .where(ThemeRecord.created_at <= now)    # as of `now`: a ranking's month end
                      .group_by(ThemeRecord.department_key, ThemeRecord.theme_key)
                      .order_by(ThemeRecord.department_key, ThemeRecord.theme_key))
    if viewer is not None:
        statement = scope.restrict(statement, ThemeRecord, viewer)
    return [Freshness(department_key=department, theme_key=theme, period_days=periods_.get(theme, DEFAULT_DAYS),
                      records=int(records), fresh=int(fresh), untouched=int(untouched))
            for department, theme, records, fresh, untouched in session.execute(statement)]


def by_department(rows: list[Freshness]) -> dict[str, tuple[int, int, int]]:
    """department key → (records, fresh, untouched), added up over its themes."""
    totals: dict[str, list[int]] = {}
    for row in rows:
        total = totals.setdefault(row.department_key, [0, 0, 0])
        total[0] += row.records
        total[1] += row.fresh
        total[2] += row.untouched
    return {key: tuple(values) for key, values in totals.items()}


def by_department_id(session: Session, now: dt.datetime | None = None, viewer: Actor | None = None
                     ) -> dict[int, tuple[int, int]]:
    """department id → (records, fresh records): the evaluation's 数据鲜活度 per department."""
    ids = dict(session.execute(select(Department.key, Department.id)).all())
    return {ids[key]: (records, fresh) for key, (records, fresh, _) in
            by_department(freshness(session, viewer, now)).items() if key in ids}


def untouched(session: Session, viewer: Actor | None, now: dt.datetime | None = None,
              limit: int = 50) -> list[Untouched]:
    """Records untouched for a year (created, updated and patrolled over a year ago), the oldest first."""
    now = now or utcnow()
    touched = func.coalesce(ThemeRecord.last_patrolled_at, ThemeRecord.updated_at, ThemeRecord.created_at)
    statement = _live(select(ThemeRecord).where(untouched_condition(now))
                      .order_by(touched, ThemeRecord.id).limit(limit))
    if viewer is not None:
        statement = scope.restrict(statement, ThemeRecord, viewer)
    return [Untouched(record_id=record.id, title=record_title(record), department_key=record.department_key,
                      theme_key=record.theme_key,
                      last_touched=max(moment for moment in (record.created_at, record.updated_at,
                                                             record.last_patrolled_at) if moment is not None))
            for record in session.scalars(statement)]


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


__all__ = ["DEFAULT_DAYS", "Freshness", "Untouched", "by_department", "by_department_id", "freshness", "periods",
           "untouched"]
