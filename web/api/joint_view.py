"""协同处置 in the API: a case's co-handlers (主办/协办) with their tasks, transfers (转办) and fallback (兜底);
naming co-handlers, a co-handler's feedback, overruling or withdrawing a task. Transfers are the workflow's
`transfer` step (POST /cases/{id}/transitions/transfer). The rules are in `workflows.joint`."""
from __future__ import annotations

from sqlalchemy import select

from minqing.core.privacy import masking
from minqing.core.actors import Actor
from minqing.core.models import Case, Department, Role, utcnow
from minqing.workflows import co_tasks, fallback, joint, transfer

from ..context import db, platform
from . import idempotency
from .auth import WORK_ROLES, current_actor, roles_required
from .cases import CASE_ID, act_once, case_in_scope
from .common import IDEMPOTENCY, iso, json_body, ref, route
from .errors import ApiError, json_response

DISPATCH_ROLES = (Role.OPERATOR, Role.ADMIN)
STAFF_ROLES = (Role.DEPARTMENT_STAFF, Role.ADMIN)
DECISION_BODY = {"type": "object", "required": ["department", "reason"], "properties": {
    "department": {"type": "string", "description": "协办部门标识"},
    "reason": {"type": "string", "minLength": 2, "maxLength": 1000, "description": "理由（必填）"},
    "client_id": {"type": "string", "maxLength": 200}}}
ANSWERS = {200: ("协同处置情况", ref("JointHandling")), 403: ("角色或部门无权", ref("Problem")),
           404: ("事件不存在或不在管辖范围内", ref("Problem")), 409: ("状态不允许或被他人抢先", ref("Problem")),
           422: ("填写的内容有误（按字段）", ref("Problem"))}


def joint_document(actor: Actor, case: Case) -> dict:
    session = db()
    departments = {department.id: department for department in session.scalars(select(Department))}
    by_key = {department.key: department for department in departments.values()}
    lead = departments.get(case.department_id)
    now = utcnow()
    found = fallback.fallback_for(session, case.region_code)

    def name_of(key: str) -> str:
        return by_key[key].short_name if key in by_key else key

    return {
        "case_id": case.id, "status": case.status, "version": case.version,
        "lead": {"key": lead.key, "name": lead.short_name} if lead else None,
        "co_handlers": [{
            "id": task.id, "department": departments[task.department_id].key,
            "department_name": departments[task.department_id].short_name, "status": task.status,
            "status_title": co_tasks.STATUS_TITLES.get(task.status, task.status),
            "instructions": masking.text_for(actor, task.instructions), "requested_by": task.requested_by_name,
            "requested_at": iso(task.requested_at), "deadline_at": iso(task.deadline_at),
            "overdue": task.status == "open" and task.deadline_at < now,
            "feedback": masking.text_for(actor, task.feedback), "photos": list(task.photos or []),
            "answered_by": task.answered_by_name, "answered_at": iso(task.answered_at),
            "decided_by": task.decided_by_name, "decided_at": iso(task.decided_at),
            "decision_reason": masking.text_for(actor, task.decision_reason)}
            for task in co_tasks.tasks_of(session, case.id)],
        "transfers": [{"from": row["from"], "from_name": name_of(row["from"]), "to": row["to"],
                       "to_name": name_of(row["to"]), "reason": masking.text_for(actor, row["reason"]),
                       "by": row["by"], "at": iso(row["at"])} for row in transfer.history(session, case.id)],
        "fallback": {"region_code": found[0], "department": found[1].key, "department_name": found[1].short_name}
        if found else None,
        "returns": fallback.returns_of(session, case.id),
    }


def _fields(body: dict, allowed: tuple[str, ...]) -> dict:
    unknown = {name: ["含有未定义的字段"] for name in body if name not in (*allowed, idempotency.BODY_FIELD)}
    if unknown:
        raise ApiError(422, "form_invalid", "含有未定义的字段", unknown)
    return {name: body[name] for name in allowed if name in body}


def _run(case: Case, actor: Actor, body: dict, status: int, action):
    return act_once(actor, case, body, action, status=status, document=joint_document)


@route(f"/cases/{CASE_ID}/co-handlers", summary="协同处置情况", tags=("cases",), roles=WORK_ROLES,
       description="主办部门、各协办部门的任务（状态、协办时限、反馈或撤销理由）、转办记录和本区划的兜底部门。",
       responses={200: ANSWERS[200], 404: ANSWERS[404]})
@roles_required(*WORK_ROLES, what="查看协同处置情况")
def list_co_handlers(case_id: int):
    actor = current_actor()
    return json_response(joint_document(actor, case_in_scope(actor, case_id)))


@route(f"/cases/{CASE_ID}/co-handlers", ("POST",), summary="指定协办部门", tags=("cases",), roles=DISPATCH_ROLES,
       description="指挥中心为已交办的事件指定协办部门；每个协办部门一项任务，时限为 hours 个工作小时，"
                   "不填则同主办部门的处置时限。主办部门须待全部协办部门反馈（或由指挥中心说明理由撤销）后方可处置反馈。",
       params=[IDEMPOTENCY], if_match=True, body={"type": "object", "required": ["departments"], "properties": {
           "departments": {"type": "array", "items": {"type": "string"}, "minItems": 1, "description": "部门标识"},
           "hours": {"type": "number", "minimum": 1, "maximum": 720, "description": "协办时限（工作小时）"},
           "instructions": {"type": "string", "maxLength": 1000, "description": "协办要求"},
           "client_id": {"type": "string", "maxLength": 200}}},
       responses={201: ("已指定", ref("JointHandling")), **{k: v for k, v in ANSWERS.items() if k != 200}})
@roles_required(*DISPATCH_ROLES, what="指定协办部门")
def assign_co_handlers(case_id: int):
    actor = current_actor()
    case = case_in_scope(actor, case_id)
    body = json_body()
    data = _fields(body, ("departments", "hours", "instructions"))
    return _run(case, actor, body, 201, lambda: joint.assign(
        platform(), db(), case, actor, data.get("departments"), instructions=data.get("instructions"),
        hours=data.get("hours")))


@route(f"/cases/{CASE_ID}/co-handlers/feedback", ("POST",), summary="协办反馈", tags=("cases",),
       roles=STAFF_ROLES, params=[IDEMPOTENCY], if_match=True,
       description="协办部门的工作人员反馈本部门的协办任务：协办结果与可选的照片（先经 POST /attachments 上传）。"
                   "管理员须以 department 指明代哪个部门反馈。",
       body={"type": "object", "required": ["result"], "properties": {
           "result": {"type": "string", "minLength": 2, "maxLength": 2000, "description": "协办结果"},
           "photos": {"type": "array", "items": {"type": "string"}, "maxItems": 9, "description": "附件 id"},
           "department": {"type": "string", "description": "协办部门标识（一人属多个部门或管理员时）"},
           "client_id": {"type": "string", "maxLength": 200}}},
       responses=ANSWERS)
@roles_required(*STAFF_ROLES, what="反馈协办情况")
def co_handler_feedback(case_id: int):
    actor = current_actor()
    case = case_in_scope(actor, case_id)
    body = json_body()
    data = _fields(body, ("result", "photos", "department"))
    return _run(case, actor, body, 200, lambda: joint.answer(
        platform(), db(), case, actor, result=data.get("result"), photos=data.get("photos"),
        department=data.get("department")))


def _decision(case_id: int, function):
    actor = current_actor()
    case = case_in_scope(actor, case_id)
    body = json_body()
    data = _fields(body, ("department", "reason"))
    return _run(case, actor, body, 200, lambda: function(platform(), db(), case, actor, data.get("department"),
                                                         data.get("reason")))


@route(f"/cases/{CASE_ID}/co-handlers/overrule", ("POST",), summary="撤销协办（说明理由）", tags=("cases",),
       roles=DISPATCH_ROLES, params=[IDEMPOTENCY], body=DECISION_BODY, responses=ANSWERS, if_match=True,
       description="协办部门未反馈时，指挥中心说明理由后撤销其协办任务，主办部门即可处置反馈。")
@roles_required(*DISPATCH_ROLES, what="撤销协办任务")
def overrule_co_handler(case_id: int):
    return _decision(case_id, joint.overrule)


@route(f"/cases/{CASE_ID}/co-handlers/withdraw", ("POST",), summary="撤回协办（误派）", tags=("cases",),
       roles=DISPATCH_ROLES, params=[IDEMPOTENCY], body=DECISION_BODY, responses=ANSWERS, if_match=True,
       description="撤回误派的协办任务，须说明理由。")
@roles_required(*DISPATCH_ROLES, what="撤回协办任务")
def withdraw_co_handler(case_id: int):
    return _decision(case_id, joint.withdraw)
