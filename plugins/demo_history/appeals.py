"""Demo 申诉 and 考核排名: last month's ranking published with one approved appeal that moved a department and
one rejected appeal; this month open (申诉期) with a pending appeal of 城管 — all through `workflows.appeals`
and `workflows.rankings`, so the timeline, the audit log and the published snapshot are the real ones."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from minqing.core.actors import Actor, Grant, actor_for
from minqing.core.models import Account, Case, Department, Region, Role
from minqing.workflows import appeals, months, rankings, schemes

HOUR = dt.timedelta(hours=1)
TRIES = 40   # overdue cases tried for one whose appeal moves its department
DEMO_DEPARTMENT = "urban_management"   # the demo's `chengguan` account


def _account(session: Session, username: str) -> Actor | None:
    account = session.scalar(select(Account).where(Account.username == username))
    return actor_for(session, account, origin="demo") if account is not None else None


def _centre(session: Session) -> Actor | None:
    """The city command centre: the demo's `city` account, else an operator of the top region."""
    actor = _account(session, "city")
    if actor is not None:
        return actor
    code = session.scalar(select(Region.code).where(Region.parent_id.is_(None)).order_by(Region.code).limit(1))
    return Actor(account_id=None, name="市指挥中心值班员", grants=(Grant(role=Role.OPERATOR, region_code=code),),
                 origin="demo") if code else None


def _staff(session: Session, department_id: int) -> Actor:
    """Who files for a department: the demo's `chengguan` for 城管, else a department staff member by name."""
    department = session.get(Department, department_id)
    if department.key == DEMO_DEPARTMENT and (actor := _account(session, "chengguan")) is not None:
        return actor
    return Actor(account_id=None, name=f"{department.short_name}处置员", origin="demo",
                 grants=(Grant(role=Role.DEPARTMENT_STAFF, department_id=department.id,
                               department_key=department.key),))


def _weighing(session: Session, period_key: str, now: dt.datetime, department_id: int | None = None, *,
              overdue_only: bool = False) -> list[Case]:
    """Dispatched cases of the month that weigh on their department: overdue, or re-handled."""
    start, end = months.bounds(period_key)
    overdue = or_(and_(Case.closed_at.is_not(None), Case.closed_at > Case.due_at),
                  and_(Case.closed_at.is_(None), Case.due_at <= now))
    statement = (select(Case).where(Case.created_at >= start, Case.created_at < end, Case.department_id.is_not(None),
                                    Case.status != "voided", Case.due_at.is_not(None),
                                    overdue if overdue_only else or_(overdue, Case.rework_count > 0))
                 .order_by(Case.id))
    if department_id is not None:
        statement = statement.where(Case.department_id == department_id)
    return list(session.scalars(statement))


def _mover(session: Session, period_key: str, cases: list[Case], now: dt.datetime) -> Case | None:
    """The first case whose leaving its department's indicators moves that department in the ranking."""
    live = rankings.compute(session, period_key, now=now)
    before = {s.department_id: s.rank for s in live.standings}
    for case in cases[:TRIES]:
        rows = schemes.rank(session, live.scheme, period_key, unit="department", now=now,
                            excluded_case_ids=[case.id])
        after = {row.key: row.place for row in rows}
        if after.get(case.department_id, before.get(case.department_id)) != before.get(case.department_id):
            return case
    return cases[0] if cases else None


def _this_months_case(session: Session, period_key: str, now: dt.datetime) -> Case | None:
    """A case of this month to leave a pending appeal on: 城管's (the `chengguan` account sees it) weighing on
    its indicators, else any of 城管's, else any department's — early in a month few cases are dispatched."""
    start, end = months.bounds(period_key)
    urban = session.scalar(select(Department.id).where(Department.key == DEMO_DEPARTMENT))
    dispatched = (select(Case).where(Case.department_id.is_not(None), Case.created_at >= start,
                                     Case.created_at < end, Case.status != "voided").order_by(Case.id).limit(1))
    found = (_weighing(session, period_key, now, urban)[:1] if urban else []) or \
        (list(session.scalars(dispatched.where(Case.department_id == urban))) if urban else []) or \
        _weighing(session, period_key, now)[:1] or list(session.scalars(dispatched))
    return found[0] if found else None


def seed_appeals(session: Session, now: dt.datetime) -> dict[str, int]:
    """Appeals and last month's publication; returns what was made (nothing when the months have no cases)."""
    centre = _centre(session)
    made = {"approved": 0, "rejected": 0, "pending": 0, "published": 0}
    this_month = months.current(now)
    last_month = months.previous(this_month)
    if centre is None or appeals.is_published(session, last_month):
        return made
    _, last_end = months.bounds(last_month)
    published_at = max(last_end, now - HOUR)
    # overdue ones first: their appeal shows in 按期办结率 and 超期件数, the ranking's first keys
    candidates = _weighing(session, last_month, published_at, overdue_only=True) or \
        _weighing(session, last_month, published_at)
    chosen = _mover(session, last_month, candidates, published_at)
    if chosen is not None:
        appeal = appeals.file_appeal(
            session, _staff(session, chosen.department_id), chosen, ground="dispatch_error",
            reason="该事件不属于本部门职责，分拨有误，经退回改派耽误了办理时限", now=published_at - 3 * HOUR)
        appeals.decide(session, centre, appeal, "approve", "经核查分拨记录，确属派遣错误，同意不计入该部门本期考核",
                       now=published_at - 2 * HOUR)
        made["approved"] = 1
        other = next((case for case in candidates if case.id != chosen.id), None)
        if other is not None:
            appeal = appeals.file_appeal(session, _staff(session, other.department_id), other,
                                         ground="force_majeure", reason="连续降雨，现场无法施工，导致超期",
                                         now=published_at - 3 * HOUR)
            appeals.decide(session, centre, appeal, "reject", "当期无影响施工的极端天气记录，超期理由不成立",
                           now=published_at - 2 * HOUR)
            made["rejected"] = 1
    if rankings.compute(session, last_month, now=published_at).standings:
        rankings.publish(session, centre, last_month, now=published_at)
        made["published"] = 1
    pending = _this_months_case(session, this_month, now)
    if pending is not None:
        appeals.file_appeal(session, _staff(session, pending.department_id), pending, ground="out_of_remit",
                            reason="该问题属于物业管理范围，不属于本部门职责", now=now - HOUR)
        made["pending"] = 1
    session.flush()
    return made


__all__ = ["seed_appeals"]
