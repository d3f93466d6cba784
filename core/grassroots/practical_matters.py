"""帮办实事: practical matters promised to residents, carried by an owner from promise to result.

A matter is promised for a household (and optionally one of its residents) — during a visit (linked to it), from a
resident's report (linked to the case) or entered directly — and gets an owner (an account), a deadline, a status
(promised → in progress → done, or cannot be done with the reason) and a result. One service per action:
`promise`, `start`, `finish`, `decline`; each checks role and scope and records the change in the caller's
transaction. Matters count for their owner and for the household's village (`figures`).

Who sees a matter:
- staff see the matters of the households within their scope (`core.scope`: a matter carries its household's grid
  and region code, which follow the household when it moves), and an owner always sees their own;
- a citizen (小兰帮办) sees a matter raised from a case they reported themselves, or one that names them: its
  resident's phone is the phone the citizen signed in with (verified by a text-message code). Nobody else's matters,
  not the rest of their household's.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import case as when, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import scope
from ..actors import Actor, actor_for
from ..changes import record_change
from ..models import (Account, Case, Household, MatterStatus, PracticalMatter, Region, Resident, Role, Visit,
                      utcnow)

PROMISERS = (Role.ADMIN, Role.OPERATOR, Role.GRID_WORKER, Role.CADRE)
OWNERS = (Role.OPERATOR, Role.GRID_WORKER, Role.CADRE)
SUPERVISORS = (Role.ADMIN, Role.OPERATOR)
STATUS_TITLES = {MatterStatus.PROMISED: "已承诺", MatterStatus.IN_PROGRESS: "办理中", MatterStatus.DONE: "已办结",
                 MatterStatus.CANNOT: "无法办理"}
OPEN = (MatterStatus.PROMISED, MatterStatus.IN_PROGRESS)
MIN_TEXT = 2
MAX_TITLE = 200
MAX_DAYS_AHEAD = 366


class MatterRefused(ValueError):
    """A refused action; the message is Chinese and names the field."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


def _text(value: str | None, field: str, label: str, limit: int = 2000) -> str:
    value = (value or "").strip()
    if len(value) < MIN_TEXT:
        raise MatterRefused(f"{label}：请至少填写{MIN_TEXT}个字", field)
    if len(value) > limit:
        raise MatterRefused(f"{label}：最多{limit}个字", field)
    return value


def _deadline(value, today: dt.date) -> dt.date:
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, dt.date):
        raise MatterRefused("办理期限：请填写日期（年-月-日）", "deadline")
    if value < today:
        raise MatterRefused("办理期限：不能早于今天", "deadline")
    if value > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise MatterRefused("办理期限：不能超过一年", "deadline")
    return value


def _household(session: Session, actor: Actor, household_id) -> Household:
    household = household_id and session.scalar(
        scope.restrict(select(Household).where(Household.id == household_id), Household, actor))
    if not household:
        raise MatterRefused("户：不存在或不在您的范围内", "household_id")
    return household


def _owner(session: Session, actor: Actor, owner_account_id, household: Household) -> Account:
    owner = session.get(Account, owner_account_id or actor.account_id) if (owner_account_id or actor.account_id) \
        else None
    if owner is None or not owner.is_active:
        raise MatterRefused("负责人：账号不存在或已停用", "owner_account_id")
    owner_actor = actor_for(session, owner)
    if not owner_actor.has_role(*OWNERS) or not scope.can_see(session, Household, household.id, owner_actor):
        raise MatterRefused("负责人：必须是负责该户的干部、网格员或指挥中心人员", "owner_account_id")
    return owner


def _links(session: Session, actor: Actor, household: Household, *, resident_id, visit_id, case_id) -> None:
    if resident_id:
        resident = session.get(Resident, resident_id)
        if resident is None or resident.household_id != household.id:
            raise MatterRefused("群众：不是该户的成员", "resident_id")
    if visit_id:
        visit = session.get(Visit, visit_id)
        if visit is None or visit.target_kind != "household" or visit.target_id != household.id:
            raise MatterRefused("走访记录：不是对该户的走访", "visit_id")
    if case_id and not session.scalar(scope.restrict(select(Case.id).where(Case.id == case_id), Case, actor)):
        raise MatterRefused("事件：不存在或不在您的范围内", "case_id")


def promise(session: Session, actor: Actor, *, household_id: int | None, title: str, deadline,
            detail: str = "", resident_id: int | None = None, owner_account_id: int | None = None,
            visit_id: int | None = None, case_id: int | None = None, client_id: str | None = None,
            today: dt.date | None = None, now: dt.datetime | None = None) -> PracticalMatter:
    """Enter a promised matter (帮办实事承诺); a retried call with the same client id returns the first one."""
    retried = client_id and session.scalar(select(PracticalMatter).where(PracticalMatter.client_id == client_id))
    if retried:
        return retried
    if not actor.has_role(*PROMISERS):
        raise MatterRefused("只有干部、网格员和指挥中心人员可以登记帮办实事")
    now = now or utcnow()
    title = _text(title, "title", "事项", MAX_TITLE)
    deadline = _deadline(deadline, today or now.date())
    household = _household(session, actor, household_id)
    _links(session, actor, household, resident_id=resident_id, visit_id=visit_id, case_id=case_id)
    owner = _owner(session, actor, owner_account_id, household)
    matter = PracticalMatter(title=title, detail=(detail or "").strip()[:2000], household_id=household.id,
                             resident_id=resident_id or None, grid_id=household.grid_id,
                             region_code=household.region_code, visit_id=visit_id or None, case_id=case_id or None,
                             owner_account_id=owner.id, deadline=deadline, status=MatterStatus.PROMISED,
                             created_by_account_id=actor.account_id, created_at=now, client_id=client_id or None)
    try:
        with session.begin_nested():
            session.add(matter)
    except IntegrityError:  # the same client id arrived twice at once
        return session.scalar(select(PracticalMatter).where(PracticalMatter.client_id == client_id))
    record_change(session, actor, "matter.promise", object_type="practical_matter", object_id=matter.id,
                  summary=f"帮办实事：{title}（{household.number}，负责人 {owner.display_name}，期限 {deadline}）",
                  details={"household_id": household.id, "owner_account_id": owner.id, "deadline": str(deadline)},
                  at=now)
    return matter


def _matter_to_act_on(session: Session, actor: Actor, matter_id) -> PracticalMatter:
    matter = matter_id and session.get(PracticalMatter, matter_id)
    if not matter or not may_act(session, actor, matter):
        raise MatterRefused("帮办实事：不存在或不由您负责", "matter_id")
    return matter


def may_act(session: Session, actor: Actor, matter: PracticalMatter) -> bool:
    """Its owner, or an administrator or operator whose scope holds the household."""
    if actor.account_id is not None and matter.owner_account_id == actor.account_id:
        return True
    return actor.has_role(*SUPERVISORS) and scope.can_see(session, Household, matter.household_id, actor)


def _move(session: Session, actor: Actor, matter: PracticalMatter, to: str, action: str, summary: str,
          now: dt.datetime) -> PracticalMatter:
    before = matter.status
    matter.status = to
    record_change(session, actor, f"matter.{action}", object_type="practical_matter", object_id=matter.id,
                  summary=f"{matter.title}：{STATUS_TITLES[before]} → {STATUS_TITLES[to]}{summary}",
                  details={"from": before, "to": to}, at=now)
    return matter


def start(session: Session, actor: Actor, matter_id: int | None, *, now: dt.datetime | None = None
          ) -> PracticalMatter:
    """Promised → in progress (开始办理)."""
    matter = _matter_to_act_on(session, actor, matter_id)
    if matter.status != MatterStatus.PROMISED:
        raise MatterRefused(f"帮办实事{STATUS_TITLES[matter.status]}，不能再开始办理", "status")
    now = now or utcnow()
    matter.started_at = now
    return _move(session, actor, matter, MatterStatus.IN_PROGRESS, "start", "", now)


def finish(session: Session, actor: Actor, matter_id: int | None, *, result: str,
           now: dt.datetime | None = None) -> PracticalMatter:
    """Promised or in progress → done, with what was done (办理结果)."""
    matter = _matter_to_act_on(session, actor, matter_id)
    if matter.status not in OPEN:
        raise MatterRefused(f"帮办实事{STATUS_TITLES[matter.status]}，不能再办结", "status")
    result = _text(result, "result", "办理结果")
    now = now or utcnow()
    matter.result, matter.finished_at = result, now
    matter.started_at = matter.started_at or now
    return _move(session, actor, matter, MatterStatus.DONE, "finish", f"：{result[:200]}", now)


def decline(session: Session, actor: Actor, matter_id: int | None, *, reason: str,
            now: dt.datetime | None = None) -> PracticalMatter:
    """Promised or in progress → cannot be done, with the reason (无法办理)."""
    matter = _matter_to_act_on(session, actor, matter_id)
    if matter.status not in OPEN:
        raise MatterRefused(f"帮办实事{STATUS_TITLES[matter.status]}，不能再改为无法办理", "status")
    reason = _text(reason, "reason", "无法办理的原因")
    now = now or utcnow()
    matter.result, matter.finished_at = reason, now
    return _move(session, actor, matter, MatterStatus.CANNOT, "decline", f"：{reason[:200]}", now)


# -- reading ------------------------------------------------------------------------------------------------------

def in_scope(statement, viewer: Actor):
    """Limit a SELECT over PracticalMatter to the viewer's matters: the households in their scope, and their own.
    A matter's grid id and region code are its household's (kept so by a trigger, migration 0034), so the scope is
    read on the matter itself: `household_id IN (households in scope)` inside this OR made PostgreSQL run the
    households subquery once per matter at a city's volume."""
    condition = scope.condition(PracticalMatter, viewer)
    own = PracticalMatter.owner_account_id == viewer.account_id if viewer.account_id is not None else None
    return statement.where(or_(condition, own) if own is not None else condition)


def owned(session: Session, actor: Actor, *, limit: int = 200) -> list[PracticalMatter]:
    """The actor's own matters: open ones first (nearest deadline first), then the finished ones."""
    return list(session.scalars(
        select(PracticalMatter).where(PracticalMatter.owner_account_id == actor.account_id)
        .order_by(when((PracticalMatter.status.in_(OPEN), 0), else_=1), PracticalMatter.deadline,
                  PracticalMatter.id.desc()).limit(limit)))


def listing(session: Session, viewer: Actor, *, region_code: str | None = None, status: str | None = None,
            limit: int = 500) -> list[PracticalMatter]:
    statement = in_scope(select(PracticalMatter), viewer)
    if region_code:
        statement = statement.where(PracticalMatter.region_code == region_code)
    if status in STATUS_TITLES:
        statement = statement.where(PracticalMatter.status == status)
    return list(session.scalars(statement.order_by(PracticalMatter.region_code, PracticalMatter.deadline,
                                                   PracticalMatter.id).limit(limit)))


@dataclasses.dataclass
class Tally:
    key: object               # a region code or an account id
    name: str
    promised: int = 0
    in_progress: int = 0
    done: int = 0
    cannot: int = 0
    overdue: int = 0          # open and past the deadline

    @property
    def total(self) -> int:
        return self.promised + self.in_progress + self.done + self.cannot


def _counts(today: dt.date) -> dict:
    """The tally's columns by name: the matters in each status, and the open ones past their deadline."""
    return {**{status: func.count().filter(PracticalMatter.status == status) for status in STATUS_TITLES},
            "overdue": func.count().filter(PracticalMatter.status.in_(OPEN) & (PracticalMatter.deadline < today))}


COLUMNS = (*STATUS_TITLES, "overdue")


@dataclasses.dataclass(frozen=True)
class Tallies:
    totals: Tally             # all the matters in the viewer's scope
    villages: list[Tally]     # per village (the household's region code), by code
    owners: list[Tally]       # per owner, the most matters first, then by name and account id


def tallies(session: Session, viewer: Actor, today: dt.date, *, limit: int | None = None) -> Tallies:
    """The matters within the viewer's scope counted by status: in all, per village and per owner (the first
    `limit` of each list), in two grouped passes. Only the rows shown leave the database: the totals are the
    owners' added up there (a window over the grouped rows, which the owners' order needs in full anyway), and the
    first villages by code are read along the region code's index, not every village grouped. Grouping by village
    and owner at once gives nearly a row per three matters at a city's volume, slower to add up than two passes."""
    owners, counted = _by_owner(session, viewer, today, limit or None)
    return Tallies(counted, by_village(session, viewer, today, limit=limit), owners)


def _tally(row, key, name) -> Tally:
    return Tally(key=key, name=name if name is not None else str(key),
                 **{column: int(row._mapping[column]) for column in COLUMNS})


def totals(session: Session, viewer: Actor, today: dt.date) -> Tally:
    """All the matters within the viewer's scope, counted by status: the owners' tallies added up."""
    return _by_owner(session, viewer, today, 0)[1]


def by_village(session: Session, viewer: Actor, today: dt.date, *, limit: int | None = None) -> list[Tally]:
    """Counts per village (the household's region code) within the viewer's scope, by code; the first `limit`.
    The names are looked up for the rows returned only (a correlated subquery in the grouping ran once per village
    of the city, 7,500, and kept PostgreSQL from grouping in parallel)."""
    grouped = in_scope(select(PracticalMatter.region_code.label("key"),
                              *(count.label(column) for column, count in _counts(today).items()))
                       .group_by(PracticalMatter.region_code).order_by(PracticalMatter.region_code), viewer)
    shown = (grouped.limit(limit) if limit else grouped).subquery()
    name = select(Region.name).where(Region.code == shown.c.key).scalar_subquery()
    return [_tally(row, row.key, row.name)
            for row in session.execute(select(shown, name.label("name")).order_by(shown.c.key))]


def by_owner(session: Session, viewer: Actor, today: dt.date, *, limit: int | None = None) -> list[Tally]:
    """Counts per owner (the cadre, worker or operator who carries them) within the viewer's scope, the most
    matters first, then by name (in the database's collation: code points on SQLite and under PostgreSQL's C.UTF-8,
    as Python ordered them before); the first `limit`."""
    return _by_owner(session, viewer, today, limit or None)[0]


def _by_owner(session: Session, viewer: Actor, today: dt.date, limit: int | None) -> tuple[list[Tally], Tally]:
    """(the first `limit` owners' tallies in `by_owner`'s order, all of them for None; all the owners' added up).
    The names are joined to the grouped rows (a few thousand), not looked up in the grouping itself."""
    counts = _counts(today)
    grouped = in_scope(select(PracticalMatter.owner_account_id.label("key"), func.count().label("matters"),
                              *(count.label(column) for column, count in counts.items()))
                       .group_by(PracticalMatter.owner_account_id), viewer).subquery()
    statement = (select(grouped, Account.display_name.label("name"),
                        *(func.sum(grouped.c[column]).over().label(f"all_{column}") for column in COLUMNS))
                 .outerjoin(Account, Account.id == grouped.c.key)
                 .order_by(grouped.c.matters.desc(), Account.display_name, grouped.c.key))
    found = session.execute(statement.limit(max(limit, 1)) if limit is not None else statement).all()
    added = Tally(key=None, name="", **{column: int(found[0]._mapping[f"all_{column}"]) if found else 0
                                        for column in COLUMNS})
    return [_tally(row, row.key, row.name) for row in found[:limit]], added


def _citizen_condition(account: Account):
    own_cases = select(Case.id).where(Case.reporter_account_id == account.id)
    clauses = [PracticalMatter.case_id.in_(own_cases)]
    if account.phone:
        clauses.append(PracticalMatter.resident_id.in_(select(Resident.id).where(Resident.phone == account.phone)))
    return or_(*clauses)


def for_citizen(session: Session, account: Account, *, limit: int = 100) -> list[PracticalMatter]:
    """The matters a citizen sees on 小兰帮办: raised from their own report, or naming them by their phone."""
    return list(session.scalars(select(PracticalMatter).where(_citizen_condition(account))
                                .order_by(PracticalMatter.created_at.desc(), PracticalMatter.id.desc()).limit(limit)))


def citizen_matter(session: Session, account: Account, matter_id: int) -> PracticalMatter | None:
    return session.scalar(select(PracticalMatter).where(PracticalMatter.id == matter_id,
                                                        _citizen_condition(account)))
