"""申诉 and 考核排名 in the API: list and file appeals, decide or withdraw one, read a month's ranking (published or
live) and publish it. The rules are `workflows.appeals` and `workflows.rankings`; scope is `core.scope`."""
from __future__ import annotations

import re

from sqlalchemy import select

from minqing import workflows
from minqing.core.privacy import masking
from minqing.core import scope
from minqing.core.actors import Actor
from minqing.core.models import Case, Role
from minqing.core.models.appeals import CaseAppeal
from minqing.workflows import appeals, months, rankings

from ..context import db
from .auth import current_actor, roles_required
from .cases import CASE_ID, case_in_scope, workflow_error
from .common import PAGING, choice_arg, given_arg, iso, json_body, paginated, query, ref, route
from .errors import ApiError, field_error, json_response

LIST_ROLES = (Role.DEPARTMENT_STAFF, Role.OPERATOR, Role.LEADER, Role.ADMIN)
DECIDE_ROLES = (Role.OPERATOR, Role.ADMIN)
RANKING_ROLES = (Role.ADMIN, Role.OPERATOR, Role.LEADER, Role.DEPARTMENT_STAFF)
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
PERIOD = query("period", "考核周期（月），如 2026-11", {"type": "string", "pattern": PERIOD_PATTERN})
RANKING_TIMES = ("starts_at", "ends_at", "as_of", "published_at", "decided_at")


def present(actor: Actor, appeal: CaseAppeal, case: Case) -> dict:
    return {"id": appeal.id, "case_id": case.id, "case_number": case.number, "department_id": appeal.department_id,
            "period": appeal.period_key, "ground": appeal.ground,
            "ground_title": appeals.GROUNDS.get(appeal.ground, appeal.ground),
            "reason": masking.text_for(actor, appeal.reason), "status": appeal.status,
            "status_title": appeals.STATUS_TITLES.get(appeal.status, appeal.status),
            "filed_by": appeal.filed_by_name, "filed_at": iso(appeal.filed_at),
            "decided_by": appeal.decided_by_name or None, "decided_at": iso(appeal.decided_at),
            "decision_reason": masking.text_for(actor, appeal.decision_reason)}


def _period_arg() -> str | None:
    """The month asked for: exactly YYYY-MM (as documented), else 400."""
    text = given_arg("period")
    if text is None:
        return None
    if not re.fullmatch(PERIOD_PATTERN, text):
        raise field_error(400, "invalid_parameter", "period", f"period 应为年月，如 2026-11（收到“{text[:20]}”）")
    try:
        return months.parse(text)
    except workflows.FormInvalid as error:
        raise field_error(400, "invalid_parameter", "period", error.errors["period"][0]) from None


def local_times(document):
    """A ranking as `workflows.rankings` writes it (UTC ISO texts), with the API's times (`common.iso`)."""
    if isinstance(document, dict):
        return {key: iso(value) if key in RANKING_TIMES and value else local_times(value)
                for key, value in document.items()}
    if isinstance(document, list):
        return [local_times(item) for item in document]
    return document


@route("/appeals", summary="申诉列表", tags=("appeals",), roles=LIST_ROLES,
       description="管辖范围内事件的申诉（部门：本部门的；指挥中心：本辖区的），新的在前，分页。",
       params=[PERIOD, query("status", "状态", {"type": "string", "enum": list(appeals.STATUS_TITLES)}), *PAGING],
       responses={200: ("一页申诉", ref("AppealPage")), 400: ("查询参数有误", ref("Problem"))})
@roles_required(*LIST_ROLES, what="查看申诉")
def list_appeals():
    actor = current_actor()
    statement = select(CaseAppeal).join(Case, Case.id == CaseAppeal.case_id)
    period, status = _period_arg(), choice_arg("status", list(appeals.STATUS_TITLES))
    if period:
        statement = statement.where(CaseAppeal.period_key == period)
    if status:
        statement = statement.where(CaseAppeal.status == status)

    def serialize(rows):
        cases = {case.id: case for case in db().scalars(select(Case).where(Case.id.in_([a.case_id for a in rows])))}
        return [present(actor, appeal, cases[appeal.case_id]) for appeal in rows]
    return paginated(scope.restrict(statement, Case, actor), serialize,
                     order_by=(CaseAppeal.filed_at.desc(), CaseAppeal.id.desc()))


@route(f"/cases/{CASE_ID}/appeal", methods=("POST",), summary="提出申诉", tags=("appeals",),
       roles=(Role.DEPARTMENT_STAFF,),
       description="本部门承办的事件在其所属月份的排名发布前申诉；同一事件同一周期只能有一件待审核或已通过的申诉。",
       body=ref("AppealCreate"),
       responses={201: ("已提交的申诉", ref("Appeal")), 404: ("不存在或不在管辖范围内", ref("Problem")),
                  409: ("已有申诉，或排名已发布", ref("Problem")), 422: ("类别或理由有误", ref("Problem"))})
@roles_required(Role.DEPARTMENT_STAFF, what="提出申诉")
def create_appeal(case_id: int):
    actor = current_actor()
    case = case_in_scope(actor, case_id)
    body = json_body()
    appeal = _commit(lambda: appeals.file_appeal(db(), actor, case, ground=body.get("ground"),
                                                 reason=body.get("reason")))
    return json_response(present(actor, appeal, case), 201)


def _commit(action) -> CaseAppeal:
    """Run the appeals service and commit; its refusals become the API's problem details."""
    try:
        appeal = action()
        db().commit()
    except workflows.WorkflowError as error:
        raise workflow_error(error) from None
    return appeal


@route(f"/cases/{CASE_ID}/appeal/decision", methods=("POST",), summary="审核申诉", tags=("appeals",),
       roles=DECIDE_ROLES, description="事件所在地或上级的指挥中心通过（approve）或驳回（reject），均须填写理由。"
                                       "通过的事件不计入该部门当期考核。",
       body=ref("AppealDecision"),
       responses={200: ("审核后的申诉", ref("Appeal")), 404: ("不存在或不在管辖范围内", ref("Problem")),
                  409: ("没有待审核的申诉，或排名已发布", ref("Problem")), 422: ("决定或理由有误", ref("Problem"))})
@roles_required(*DECIDE_ROLES, what="审核申诉")
def decide_appeal(case_id: int):
    actor = current_actor()
    case = case_in_scope(actor, case_id)
    body = json_body()
    appeal = _commit(lambda: appeals.decide_case(db(), actor, case, body.get("decision"), body.get("reason")))
    return json_response(present(actor, appeal, case))


@route(f"/cases/{CASE_ID}/appeal/withdraw", methods=("POST",), summary="撤回申诉", tags=("appeals",),
       roles=(Role.DEPARTMENT_STAFF,), description="提出申诉的部门撤回其待审核的申诉。",
       responses={200: ("撤回后的申诉", ref("Appeal")), 404: ("不存在或不在管辖范围内", ref("Problem")),
                  409: ("没有待审核的申诉，或排名已发布", ref("Problem"))})
@roles_required(Role.DEPARTMENT_STAFF, what="撤回申诉")
def withdraw_appeal(case_id: int):
    actor = current_actor()
    case = case_in_scope(actor, case_id)
    appeal = _commit(lambda: appeals.withdraw_case(db(), actor, case))
    return json_response(present(actor, appeal, case))


@route("/rankings", summary="考核排名", tags=("appeals",), roles=RANKING_ROLES,
       description="某月职能部门排名：已发布的（发布时冻结，含发布时间）或未发布时按当前数据计算的（status=open）；"
                   "standings 中 baseline 为不计申诉时的指标与名次，appeals 为改变排名的申诉。默认上月。",
       params=[PERIOD], responses={200: ("排名", ref("Ranking")), 400: ("查询参数有误", ref("Problem"))})
@roles_required(*RANKING_ROLES, what="查看考核排名")
def read_ranking():
    period = _period_arg() or months.previous(months.current())
    return json_response(local_times(rankings.as_dict(rankings.ranking(db(), period))))


@route("/rankings/publish", methods=("POST",), summary="发布考核排名", tags=("appeals",), roles=DECIDE_ROLES,
       description="市级指挥中心在月份结束、申诉审核完毕后发布该月排名；发布后不再受理申诉。",
       body={"type": "object", "required": ["period"], "properties": {"period": PERIOD["schema"]}},
       responses={200: ("已发布的排名", ref("Ranking")), 409: ("已发布、月份未结束或尚有待审核的申诉", ref("Problem")),
                  422: ("周期有误", ref("Problem"))})
@roles_required(*DECIDE_ROLES, what="发布考核排名")
def publish_ranking():
    actor = current_actor()
    if not rankings.may_publish(actor):
        raise ApiError(403, "forbidden", "只有市级指挥中心可以发布考核排名")
    body = json_body()
    try:
        publication = rankings.publish(db(), actor, str(body.get("period") or ""))
        db().commit()
    except workflows.WorkflowError as error:
        raise workflow_error(error) from None
    return json_response(local_times(rankings.as_dict(rankings.from_snapshot(publication))))
