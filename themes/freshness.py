"""数据鲜活度 (data freshness): how much of a department's ledger is current.

A record is fresh when it was created, updated or patrolled within its theme's period: the theme's
``patrol_every_days``, or `DEFAULT_DAYS` for a theme without one. A record none of whose three moments falls within
the last year is untouched (一年未更新). Periods come from each theme's newest published version (`ThemeVersion`),
so the figures need no plugin host and a ranking can compute them; retired records are left out.

One GROUP BY answers every department and theme (`freshness`); `by_department_id` is the same, added up per
department, for the evaluation's indicator; `untouched` lists the untouched records, oldest first;
`panel_blocks` is the panel of both the dashboard (the `data_freshness` plugin) and the department's 巡查任务 page.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from minqing.core import scope
from minqing.core.actors import Actor
from minqing.core.models import Department, ThemeRecord, utcnow

from .layers import record_title
from .patrols import published_settings
from .records import active

DEFAULT_DAYS = 365
UNTOUCHED_DAYS = 365
ROWS = 100     # rows of the panel's table


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
    return {key: every or DEFAULT_DAYS for key, (every, _title) in published_settings(session).items()}


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


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def freshness(session: Session, viewer: Actor | None, now: dt.datetime | None = None,
              periods_: dict[str, int] | None = None) -> list[Freshness]:
    """Per department and theme, within the viewer's scope (everything when `viewer` is None); `periods_` as
    `periods` answers, read when not given."""
    now = now or utcnow()
    periods_ = periods(session) if periods_ is None else periods_
    statement = active(select(ThemeRecord.department_key, ThemeRecord.theme_key, func.count(),
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
    statement = active(select(ThemeRecord).where(untouched_condition(now))
                      .order_by(touched, ThemeRecord.id).limit(limit))
    if viewer is not None:
        statement = scope.restrict(statement, ThemeRecord, viewer)
    return [Untouched(record_id=record.id, title=record_title(viewer, record), department_key=record.department_key,
                      theme_key=record.theme_key,
                      last_touched=max(moment for moment in (record.created_at, record.updated_at,
                                                             record.last_patrolled_at) if moment is not None))
            for record in session.scalars(statement)]


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def panel_blocks(session: Session, viewer: Actor | None, now: dt.datetime) -> tuple[int, list[dict]]:
    """(records, the blocks) of the freshness panel as `viewer` sees it: the dashboard's (`data_freshness`) and
    the department's own on its 巡查任务 page."""
    settings = published_settings(session)
    periods_ = {key: every or DEFAULT_DAYS for key, (every, _title) in settings.items()}
    rows = freshness(session, viewer, now, periods_)
    departments = dict(session.execute(select(Department.key, Department.short_name)).all())
    titles = {key: title for key, (_every, title) in settings.items()}
    records = sum(row.records for row in rows)
    fresh = sum(row.fresh for row in rows)
    blocks = [{"text": f"共 {records} 条业务记录，{fresh} 条在周期内新增、更新或巡查，"
                       f"数据鲜活度 {percent(fresh / records if records else None)}。"},
              {"note": f"周期：业务主题的巡查周期，未设巡查周期的主题按 {DEFAULT_DAYS} 天计。"}]
    if rows:
        blocks.append({"table": {"id": "freshness", "columns": ["部门", "业务主题", "周期（天）", "记录数", "周期内更新",
                                                                "数据鲜活度", "一年未更新"],
                                 "rows": [[departments.get(row.department_key, row.department_key),
                                           titles.get(row.theme_key, row.theme_key), row.period_days, row.records,
                                           row.fresh, percent(row.rate), row.untouched]
                                          for row in rows[:ROWS]]}})
    stale = untouched(session, viewer, now)
    if stale:
        blocks += [{"label": "一年未更新的记录："},
                   {"items": [f"{departments.get(item.department_key, item.department_key)} · "
                              f"{titles.get(item.theme_key, item.theme_key)} · {item.title}"
                              f"（最后更新 {item.last_touched.date().isoformat()}）" for item in stale]}]
    return records, blocks


__all__ = ["DEFAULT_DAYS", "Freshness", "Untouched", "by_department", "by_department_id", "freshness", "panel_blocks",
           "periods", "untouched"]
