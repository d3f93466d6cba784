"""Cases: report (through `workflows.submit_report`), list with filters and pages, read with the timeline, take a
workflow step (through `workflows.transition`) and urge. Every read goes through `core.scope`; a case outside the
viewer's scope is 404, whether or not it exists."""
from __future__ import annotations

from flask import request, url_for
from sqlalchemy import or_, select

from minqing import themes, workflows
from minqing.core import attachments as uploads, scope
from minqing.core.actors import Actor
from minqing.core.models import Case, Role, utcnow
from minqing.workflows import URGENCIES, all_workflows, attachment_refs, final_states

from ..context import db, platform
from . import idempotency, present
from .auth import WORK_ROLES, current_actor, is_public_viewer, roles_required
from .common import (BBOX, IDEMPOTENCY, PAGING, TIME_SCHEMA, bbox_arg, bool_arg, choice_arg, choices_arg,
                     json_body, paginated, query, ref, route, time_arg)
from .errors import ApiError, json_response
from .semantics import document_etag, require_match
from .themes_view import theme_or_404

READ_ROLES = (*WORK_ROLES, Role.CITIZEN)
REPORT_ROLES = (Role.GRID_WORKER, Role.OPERATOR, Role.ADMIN, Role.CITIZEN)
EXTRA_FIELDS = ("theme", "client_id")
CASE_ID = "<int:case_id>"


def workflow_error(error: workflows.WorkflowError) -> ApiError:
    """The engine's refusals as API errors: role or scope 403, state or race 409, form 422 with its fields."""
    if isinstance(error, workflows.FormInvalid):
        return ApiError(422, error.code, "填写的内容有误" if error.code == "form_invalid" else "事件未通过校验",
                        error.errors)
    if isinstance(error, workflows.PermissionDenied):
        return ApiError(403, error.code, error.message)
    if isinstance(error, (workflows.Conflict, workflows.InvalidTransition)):
        return ApiError(409, error.code, error.message)
    return ApiError(422, error.code, error.message)


def case_in_scope(actor: Actor, case_id: int) -> Case:
    case = db().scalar(scope.restrict(select(Case).where(Case.id == case_id), Case, actor))
    if case is None:
        raise ApiError(404, "not_found", f"没有编号为 {case_id} 的事件，或您无权查看")
    return case


# -- attachments in form documents -------------------------------------------------------------------------------

def check_attachments(actor: Actor, refs: list[tuple[str, str]], case_id: int | None = None) -> list[str]:
    """The ids, if each is a file this actor uploaded (POST /attachments) not yet part of another case."""
    ids = [item for _path, item in refs]
    if not ids:
        return []
    usable = uploads.unclaimed(db(), actor, ids, case_id=case_id)
    problems = {}
    for path, item in refs:
        if item not in usable:
            problems.setdefault(path, []).append("附件不存在或不是您上传的（请先通过 POST /api/v1/attachments 上传）")
    if problems:
        raise ApiError(422, "form_invalid", "附件无效", problems)
    return ids


def _link_attachments(actor: Actor, ids: list[str], case_id: int) -> None:
    uploads.link_to_case(db(), actor, ids, case_id)


# -- list ---------------------------------------------------------------------------------------------------------

def _known(column, names) -> set[str]:
    """Values a filter may take: those the platform defines plus those stored on cases (a theme of a disabled
    plugin, a state of a theme's inline workflow)."""
    return set(names) | set(db().scalars(select(column).distinct()))


def _status_filter(statement, final: list[str]):
    allowed = _known(Case.status, [*STATUS_GROUPS, *(name for workflow in all_workflows(platform())
                                                     for name in workflow.states)])
    statuses = choices_arg("status", allowed)
    if not statuses:
        return statement
    named = [item for item in statuses if item not in STATUS_GROUPS]
    conditions = []
    if "open" in statuses:
        conditions.append(Case.status.not_in(final))
    if "closed" in statuses:
        conditions.append(Case.status.in_(final))
    if named:
        conditions.append(Case.status.in_(named))
    return statement.where(or_(*conditions))


STATUS_GROUPS = ("open", "closed")
LIST_PATTERN = r"^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$"


@route("/cases", summary="事件列表", tags=("cases",), roles=READ_ROLES,
       description="管辖范围内的事件（群众只看到自己反映的），新的在前，分页；`Link` 头给出 first/prev/next/last。"
                   "未知的筛选值（状态、主题、紧急程度等）返回 400，并说明可选的值。",
       params=[query("status", "状态，可逗号分隔；open 为未结、closed 为已结，或流程中的状态名",
                     {"type": "string", "pattern": LIST_PATTERN}),
               query("theme", "业务主题键，可逗号分隔", {"type": "string", "pattern": LIST_PATTERN}),
               query("urgency", "紧急程度", {"type": "string", "enum": list(URGENCIES)}),
               query("overdue", "只看超时未办结的（true）或未超时的（false）", {"type": "boolean"}),
               BBOX, query("created_from", "上报时间起（ISO 8601 日期或时间）", TIME_SCHEMA),
               query("created_to", "上报时间止（含当日）", TIME_SCHEMA), *PAGING],
       responses={200: ("一页事件", ref("CasePage")), 400: ("查询参数有误（按参数说明可选的值）", ref("Problem"))})
@roles_required(*READ_ROLES, what="查看事件")
def list_cases():
    actor = current_actor()
    now = utcnow()
    statement = scope.restrict(select(Case), Case, actor)
    final = sorted(final_states(platform()))
    statement = _status_filter(statement, final)
    if theme_keys := choices_arg("theme", _known(Case.theme_key, themes.registry(platform(), db()).themes)):
        statement = statement.where(Case.theme_key.in_(theme_keys))
    if urgency := choice_arg("urgency", URGENCIES):
        statement = statement.where(Case.urgency == urgency)
    overdue = bool_arg("overdue")
    if overdue is True:
        statement = statement.where(Case.state_deadline_at < now, Case.status.not_in(final))
    elif overdue is False:
        statement = statement.where((Case.state_deadline_at.is_(None)) | (Case.state_deadline_at >= now)
                                    | Case.status.in_(final))
    if bbox := bbox_arg():
        statement = statement.where(Case.lon.between(bbox[0], bbox[2]), Case.lat.between(bbox[1], bbox[3]))
    start, end = time_arg("created_from"), time_arg("created_to", end=True)
    if start and end and end < start:
        raise ApiError(400, "invalid_parameter", "created_to 早于 created_from",
                       {"created_to": ["created_to 早于 created_from"]})
    if start:
        statement = statement.where(Case.created_at >= start)
    if end:
        statement = statement.where(Case.created_at < end)
    return paginated(statement, lambda rows: [present.case_summary(actor, row, now=now) for row in rows],
                     order_by=(Case.created_at.desc(), Case.id.desc()))


# -- report -------------------------------------------------------------------------------------------------------

@route("/cases", ("POST",), summary="上报事件", tags=("cases",), roles=REPORT_ROLES,
       description="按主题的上报表单上报（请求体的 JSON Schema 见 GET /themes/{key} 的 case_request_schema），"
                   "经标准流程进入“待受理”。幂等：Idempotency-Key 头或请求体中的 client_id。",
       params=[IDEMPOTENCY], body=ref("CaseCreate"),
       responses={201: ("已上报（重试时为第一次的结果）", ref("CaseDetail")), 400: ("请求体不是 JSON 对象", ref("Error")),
                  403: ("角色无权上报", ref("Error")), 404: ("没有这个主题", ref("Error")),
                  422: ("表单有误（按字段）或幂等键已用于不同内容", ref("Error"))})
@roles_required(*REPORT_ROLES, what="上报事件")
def create_case():
    actor = current_actor()
    body = json_body()
    key = idempotency.key_of(body)

    def work():
        case = _report(actor, body, key)
        return 201, present.case_detail(actor, case)

    status, answer, replayed = idempotency.run_once(db(), actor, key, "POST", request.path, body, work)
    db().commit()
    headers = {"Location": url_for("api.read_case", case_id=answer["id"])}
    if replayed:
        headers[idempotency.REPLAYED_HEADER] = "true"
    return json_response(answer, status, headers)


def _report(actor: Actor, body: dict, key: str | None) -> Case:
    theme_key = body.get("theme")
    if not isinstance(theme_key, str) or not theme_key:
        raise ApiError(422, "form_invalid", "请指定业务主题（theme）", {"theme": ["请指定业务主题（theme）"]})
    theme = theme_or_404(actor, theme_key)
    document = {name: value for name, value in body.items() if name not in EXTRA_FIELDS}
    try:
        return workflows.submit_report(
            platform(), db(), actor, theme, document, channel="api", public=is_public_viewer(actor),
            client_id=idempotency.client_id_for(actor.account_id, key) if key else None)
    except workflows.WorkflowError as error:
        raise workflow_error(error) from None


# -- read ---------------------------------------------------------------------------------------------------------

@route(f"/cases/{CASE_ID}", summary="事件详情", tags=("cases",), roles=READ_ROLES,
       description="事件、表单内容（个人信息按角色遮蔽）、办理时间线和您可执行的下一步。ETag 标识这一表示；"
                   "办理时以 If-Match 带上它，事件已被改动则返回 412。",
       responses={200: ("事件", ref("CaseDetail")), 404: ("不存在或不在管辖范围内", ref("Problem"))})
@roles_required(*READ_ROLES, what="查看事件")
def read_case(case_id: int):
    actor = current_actor()
    case = case_in_scope(actor, case_id)
    return json_response(present.case_detail(actor, case))


# -- workflow steps -----------------------------------------------------------------------------------------------

def _answer(actor: Actor, case_id: int, status: int, answer: dict, replayed: bool):
    """The answer of a step: the document it changed, with its new ETag (for the next If-Match)."""
    headers = {"Location": url_for("api.read_case", case_id=case_id)}
    if replayed:
        headers[idempotency.REPLAYED_HEADER] = "true"
    else:
        headers["ETag"] = f'"{document_etag(answer)}"'
    return json_response(answer, status, headers)


@route(f"/cases/{CASE_ID}/transitions/<name>", ("POST",), summary="办理一步（流转）", tags=("cases",),
       description="执行流程中的一步（如 accept、dispatch、take、feedback、confirm），请求体为这一步的表单数据"
                   "（见事件详情的 transitions[].form）。角色或范围不符 403，状态不允许或被他人抢先 409，表单有误 422。",
       params=[IDEMPOTENCY], body={"type": "object", "description": "这一步的表单数据"}, if_match=True,
       responses={200: ("办理后的事件", ref("CaseDetail")), 403: ("无权办理", ref("Problem")),
                  404: ("事件不存在或没有这一步", ref("Problem")), 409: ("状态冲突", ref("Problem")),
                  422: ("表单有误（按字段）", ref("Problem"))})
@roles_required(*WORK_ROLES, what="办理事件")
def take_transition(case_id: int, name: str):
    actor = current_actor()
    case = case_in_scope(actor, case_id)
    try:
        workflow = workflows.get_workflow(platform(), case.workflow_key)
    except workflows.WorkflowError as error:
        raise workflow_error(error) from None
    step = workflow.transitions.get(name)
    if step is None:
        raise ApiError(404, "unknown_transition", f"处置流程“{workflow.title}”中没有“{name[:40]}”这一步")
    body = json_body(required=False)
    key = idempotency.key_of(body)
    data = {field: value for field, value in body.items() if field != idempotency.BODY_FIELD}

    def work():
        require_match(present.case_detail(actor, case))
        photos = check_attachments(actor, attachment_refs(step.form, data), case.id)
        try:
            workflows.transition(platform(), db(), case, name, actor, data)
        except workflows.WorkflowError as error:
            raise workflow_error(error) from None
        _link_attachments(actor, photos, case.id)
        db().flush()
        db().refresh(case)
        return 200, present.case_detail(actor, case)

    status, answer, replayed = idempotency.run_once(db(), actor, key, "POST", request.path, body, work)
    db().commit()
    return _answer(actor, case_id, status, answer, replayed)


@route(f"/cases/{CASE_ID}/urge", ("POST",), summary="催办", tags=("cases",),
       roles=(Role.OPERATOR, Role.LEADER, Role.ADMIN), params=[IDEMPOTENCY], if_match=True,
       body={"type": "object", "additionalProperties": False,
             "properties": {"comment": {"type": "string", "maxLength": 500, "description": "催办意见"}}},
       responses={200: ("催办后的事件", ref("CaseDetail")), 403: ("无权催办", ref("Problem")),
                  404: ("事件不存在或不在管辖范围内", ref("Problem")), 409: ("事件已结束", ref("Problem")),
                  422: ("含有未定义的字段，或催办意见过长", ref("Problem"))})
@roles_required(*WORK_ROLES, what="催办")
def urge_case(case_id: int):
    actor = current_actor()
    case = case_in_scope(actor, case_id)
    body = json_body(required=False)
    comment = body.get("comment", "")
    if not isinstance(comment, str) or len(comment) > 500:
        raise ApiError(422, "form_invalid", "催办意见应为文本，最多 500 字", {"comment": ["应为文本，最多 500 字"]})
    unknown = {name: ["含有未定义的字段"] for name in body if name not in ("comment", idempotency.BODY_FIELD)}
    if unknown:
        raise ApiError(422, "form_invalid", "含有未定义的字段", unknown)
    return act_once(actor, case, body, lambda: workflows.urge(platform(), db(), case, actor, comment.strip()))


def act_once(actor: Actor, case: Case, body: dict, action, *, status: int = 200, document=None):
    """Do `action()` on `case` once per Idempotency-Key (a retry gets the first answer back) and answer
    `document(actor, case)` (default: the case's detail); a refusal of the workflow becomes its API error.
    An If-Match must name the current ETag of that document (412 otherwise)."""
    document = document or present.case_detail

    def work():
        require_match(document(actor, case))
        try:
            action()
        except workflows.WorkflowError as error:
            raise workflow_error(error) from None
        db().flush()
        db().refresh(case)
        return status, document(actor, case)

    answer_status, answer, replayed = idempotency.run_once(db(), actor, idempotency.key_of(body), "POST",
                                                           request.path, body, work)
    db().commit()
    return _answer(actor, case.id, answer_status, answer, replayed)
