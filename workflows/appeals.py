"""申诉: before a period's rankings are published, a department appeals one of its cases (e.g. overdue because it
was dispatched wrongly); a command centre approves or rejects it with a reason. An approved case leaves that
department's indicators for the case's period (the month it was reported in, city time) — only the department
ranking's: the region and grid views still count it, because the case still happened there (docs/evaluation.md).

Rules:
- department staff appeal cases of their own department (`core.scope`), of a period not yet published;
- one pending or approved appeal per case and period; a rejected or withdrawn one may be followed by a new one;
- operators of the case's region or a region above it (and administrators) decide; a reason is required both to
  approve and to reject, so the published ranking can say why a case left it;
- the filing staff's department withdraws its own pending appeal;
- nothing is decided or withdrawn once the period is published.
Every step is a line on the case's timeline (申诉提交 / 申诉通过 / 申诉驳回 / 申诉撤回) and in the audit log.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from minqing.core import scope
from minqing.core.actors import Actor
from minqing.core.changes import record_case_event
from minqing.core.models import Case, CaseMilestone, Role, utcnow
from minqing.core.models.appeals import CaseAppeal, RankingPublication

from . import months
from .errors import Conflict, FormInvalid, InvalidTransition, PermissionDenied

GROUNDS = {"dispatch_error": "派遣错误", "force_majeure": "不可抗力", "out_of_remit": "职责外", "other": "其他"}
STATUS_TITLES = {"pending": "待审核", "approved": "已通过", "rejected": "已驳回", "withdrawn": "已撤回"}
DECISIONS = {"approve": "approved", "reject": "rejected"}
REASON_MIN, REASON_MAX = 5, 1000
DIMENSION = "department"


def is_published(session: Session, period_key: str) -> bool:
    return session.scalar(select(RankingPublication.id).where(
        RankingPublication.period_key == period_key, RankingPublication.dimension == DIMENSION)) is not None


def _reason(text, field: str, what: str) -> str:
    text = text.strip() if isinstance(text, str) else ""
    if len(text) < REASON_MIN:
        raise FormInvalid({field: [f"请填写{what}（至少 {REASON_MIN} 个字）"]})
    if len(text) > REASON_MAX:
        raise FormInvalid({field: [f"{what}最多 {REASON_MAX} 个字"]})
    return text


def _refuse_published(session: Session, period_key: str, doing: str) -> None:
    if is_published(session, period_key):
        raise InvalidTransition(f"{months.title(period_key)}的排名已发布，不能再{doing}")


class NoPendingAppeal(InvalidTransition):
    code = "no_pending_appeal"

    def __init__(self):
        super().__init__("该事件没有待审核的申诉")


def live_appeal(session: Session, case_id: int) -> CaseAppeal | None:
    """The case's pending or approved appeal, if any (at most one: a case belongs to one period)."""
    return session.scalar(select(CaseAppeal).where(CaseAppeal.case_id == case_id, CaseAppeal.active.is_(True)))


def file_appeal(session: Session, actor: Actor, case: Case, *, ground: str, reason: str,
                now: dt.datetime | None = None) -> CaseAppeal:
    """Appeal `case` for the actor's department. PermissionDenied unless the actor is staff of the case's
    department; FormInvalid for an unknown ground or a missing reason; InvalidTransition once the period is
    published; Conflict when the case already has a pending or approved appeal."""
    now = now or utcnow()
    grants = [grant for grant in actor.grants_of(Role.DEPARTMENT_STAFF) if grant.department_id]
    if not grants:
        raise PermissionDenied("只有职能部门的工作人员可以为本部门的事件申诉")
    if case.department_id is None or case.department_id not in {grant.department_id for grant in grants} \
            or not scope.can_see(session, Case, case.id, actor):
        raise PermissionDenied("只能为本部门承办的事件申诉")
    errors = {}
    if not isinstance(ground, str) or ground not in GROUNDS:
        errors["ground"] = ["请选择申诉理由类别：" + "、".join(GROUNDS.values())]
    try:
        reason = _reason(reason, "reason", "申诉理由")
    except FormInvalid as error:
        errors.update(error.errors)
    if errors:
        raise FormInvalid(errors)
    period_key = months.key_of(case.created_at)
    _refuse_published(session, period_key, "申诉")
    if live_appeal(session, case.id) is not None:
        raise Conflict("该事件已有待审核或已通过的申诉，不能重复申诉")
    appeal = CaseAppeal(case_id=case.id, department_id=case.department_id, period_key=period_key, ground=ground,
                        reason=reason, status="pending", active=True, filed_by_account_id=actor.account_id,
                        filed_by_name=actor.name[:64], filed_at=now)
    try:
        with session.begin_nested():  # two appeals at once: the unique key lets exactly one in
            session.add(appeal)
            session.flush()
    except IntegrityError:
        raise Conflict("该事件已有待审核或已通过的申诉，不能重复申诉") from None
    record_case_event(session, actor, case, "appeal_filed", from_status=case.status, to_status=case.status,
                      comment=f"{GROUNDS[ground]}：{reason}", at=now,
                      data={"title": "申诉提交", "appeal_id": appeal.id, "ground": ground, "period": period_key})
    return appeal


def may_decide(session: Session, actor: Actor, case: Case) -> bool:
    """Administrators, and operators whose region holds the case's region (at it or above)."""
    if actor.has_role(Role.ADMIN):
        return True
    operators = dataclasses.replace(actor, grants=tuple(actor.grants_of(Role.OPERATOR)))
    return bool(operators.grants) and scope.can_see(session, Case, case.id, operators)


def decide(session: Session, actor: Actor, appeal: CaseAppeal, decision: str, reason: str,
           now: dt.datetime | None = None) -> CaseAppeal:
    """Approve (`decision="approve"`) or reject a pending appeal, with a reason either way."""
    now = now or utcnow()
    case = session.get(Case, appeal.case_id)
    if not may_decide(session, actor, case):
        raise PermissionDenied("只有事件所在地或上级的指挥中心可以审核申诉")
    if not isinstance(decision, str) or decision not in DECISIONS:
        raise FormInvalid({"decision": ["请选择“通过”或“驳回”"]})
    reason = _reason(reason, "reason", "审核意见" if decision == "approve" else "驳回理由")
    if appeal.status != "pending":
        raise InvalidTransition(f"该申诉{STATUS_TITLES.get(appeal.status, appeal.status)}，不能再审核")
    _refuse_published(session, appeal.period_key, "审核申诉")
    status = DECISIONS[decision]
    appeal.status, appeal.active = status, (True if status == "approved" else None)
    appeal.decided_by_account_id, appeal.decided_by_name = actor.account_id, actor.name[:64]
    appeal.decided_at, appeal.decision_reason = now, reason
    session.flush()
    title = "申诉通过" if status == "approved" else "申诉驳回"
    record_case_event(session, actor, case, f"appeal_{status}", from_status=case.status, to_status=case.status,
                      comment=reason, at=now, data={"title": title, "appeal_id": appeal.id,
                                                    "period": appeal.period_key})
    return appeal


def withdraw(session: Session, actor: Actor, appeal: CaseAppeal, now: dt.datetime | None = None) -> CaseAppeal:
    """The appealing department takes back its pending appeal."""
    now = now or utcnow()
    if appeal.department_id not in {grant.department_id for grant in actor.grants_of(Role.DEPARTMENT_STAFF)}:
        raise PermissionDenied("只有提出申诉的部门可以撤回申诉")
    if appeal.status != "pending":
        raise InvalidTransition(f"该申诉{STATUS_TITLES.get(appeal.status, appeal.status)}，不能撤回")
    _refuse_published(session, appeal.period_key, "撤回申诉")
    appeal.status, appeal.active = "withdrawn", None
    appeal.decided_by_account_id, appeal.decided_by_name, appeal.decided_at = actor.account_id, actor.name[:64], now
    session.flush()
    case = session.get(Case, appeal.case_id)
    record_case_event(session, actor, case, "appeal_withdrawn", from_status=case.status, to_status=case.status,
                      at=now, data={"title": "申诉撤回", "appeal_id": appeal.id, "period": appeal.period_key})
    return appeal


def pending_appeal(session: Session, case: Case) -> CaseAppeal:
    """The case's appeal awaiting a decision; NoPendingAppeal when there is none (or it is decided)."""
    appeal = live_appeal(session, case.id)
    if appeal is None or appeal.status != "pending":
        raise NoPendingAppeal()
    return appeal


def decide_case(session: Session, actor: Actor, case: Case, decision: str, reason: str,
                now: dt.datetime | None = None) -> CaseAppeal:
    """审核申诉 of `case` (the page's and the API's action): its pending appeal approved or rejected."""
    if not may_decide(session, actor, case):
        raise PermissionDenied("只有事件所在地或上级的指挥中心可以审核申诉")
    return decide(session, actor, pending_appeal(session, case), decision, reason, now)


def withdraw_case(session: Session, actor: Actor, case: Case, now: dt.datetime | None = None) -> CaseAppeal:
    """撤回申诉 of `case` by the department that filed it (the page's and the API's action)."""
    if not actor.grants_of(Role.DEPARTMENT_STAFF):
        raise PermissionDenied("只有提出申诉的部门可以撤回申诉")
    return withdraw(session, actor, pending_appeal(session, case), now)


# -- reading ----------------------------------------------------------------------------------------------------

def excluded_from_departments(period_key: str | None = None):
    """A SELECT of the ids of cases an approved appeal takes out of their department's indicators: the appeal's
    department must still be the case's department (a case dispatched elsewhere since counts there)."""
    case = aliased(Case)
    statement = (select(CaseAppeal.case_id).join(case, case.id == CaseAppeal.case_id)
                 .where(CaseAppeal.status == "approved", CaseAppeal.department_id == case.department_id))
    if period_key is not None:
        statement = statement.where(CaseAppeal.period_key == period_key)
    return statement


def appeals_in_scope(session: Session, viewer: Actor, *, period_key: str | None = None,
                     status: str | None = None, case_id: int | None = None,
                     limit: int = 200) -> list[tuple[CaseAppeal, Case]]:
    """Appeals of the cases `viewer` may see (department staff: their department's; operators: their region's),
    newest first."""
    statement = select(CaseAppeal, Case).join(Case, Case.id == CaseAppeal.case_id)
    if period_key:
        statement = statement.where(CaseAppeal.period_key == period_key)
    if status:
        statement = statement.where(CaseAppeal.status == status)
    if case_id is not None:
        statement = statement.where(CaseAppeal.case_id == case_id)
    statement = scope.restrict(statement, Case, viewer).order_by(CaseAppeal.filed_at.desc(), CaseAppeal.id.desc())
    return [(appeal, case) for appeal, case in session.execute(statement.limit(limit))]


def appealable_cases(session: Session, viewer: Actor, period_key: str, *, now: dt.datetime | None = None,
                     limit: int = 100) -> list[Case]:
    """The viewer's department's cases of the period that weigh on its indicators — overdue, reworked or rated
    unsatisfied — and have no pending or approved appeal."""
    now = now or utcnow()
    grants = [grant.department_id for grant in viewer.grants_of(Role.DEPARTMENT_STAFF) if grant.department_id]
    if not grants:
        return []
    start, end = months.bounds(period_key)
    m = CaseMilestone
    overdue = and_(Case.due_at.is_not(None), ((Case.closed_at.is_not(None) & (Case.closed_at > Case.due_at))
                                              | (Case.closed_at.is_(None) & (Case.due_at <= now))))
    unsatisfied = exists().where(m.case_id == Case.id, m.rating.is_not(None), m.satisfied.is_(False))
    live = exists().where(CaseAppeal.case_id == Case.id, CaseAppeal.active.is_(True))
    statement = (select(Case).where(Case.department_id.in_(grants), Case.created_at >= start, Case.created_at < end,
                                    Case.status != "voided", overdue | (Case.rework_count > 0) | unsatisfied,
                                    ~live)
                 .order_by(Case.created_at, Case.id).limit(limit))
    return list(session.scalars(scope.restrict(statement, Case, viewer)))


__all__ = ["DECISIONS", "GROUNDS", "STATUS_TITLES", "NoPendingAppeal", "appealable_cases", "appeals_in_scope",
           "decide", "decide_case", "excluded_from_departments", "file_appeal", "is_published", "live_appeal",
           "may_decide", "pending_appeal", "withdraw", "withdraw_case"]
