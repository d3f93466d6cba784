"""重复件 in the API: the likely duplicates of a case with their evidence, merging it into a master, and undoing
the merge. Scoped like the case read; the refusals are the engine's (403 role or scope, 409 state, 422 form)."""
from __future__ import annotations

from minqing.core.privacy import masking
from minqing.core.models import Role
from minqing.workflows import duplicates

from ..context import db, platform
from . import idempotency
from .auth import current_actor, roles_required
from .cases import CASE_ID, act_once, case_in_scope
from .common import IDEMPOTENCY, json_body, ref, route
from .errors import ApiError, json_response

CANDIDATE_ROLES = (Role.OPERATOR, Role.LEADER, Role.ADMIN, Role.GRID_WORKER)
MERGE_ROLES = (Role.OPERATOR, Role.ADMIN)


@route(f"/cases/{CASE_ID}/duplicates", summary="疑似重复件", tags=("cases",), roles=CANDIDATE_ROLES,
       description="与本事件同主题（或同类别）、在主题设定的距离和时间范围内、未作废且未被合并的未办结或近期办结事件，"
                   "附证据（相距米数、相差小时、文字相似度、是否同类、照片是否近似）与综合得分，仅限您的管辖范围。"
                   "已合并的事件没有疑似重复件。",
       responses={200: ("疑似重复件", ref("DuplicateCandidates")), 404: ("不存在或不在管辖范围内", ref("Problem"))})
@roles_required(*CANDIDATE_ROLES, what="查看疑似重复件")
def case_duplicates(case_id: int):
    actor = current_actor()
    case = case_in_scope(actor, case_id)
    found = duplicates.candidates.for_case(platform(), db(), case, actor)
    settings = duplicates.for_theme(platform(), db(), case.theme_key)
    return json_response({"case_id": case.id, "settings": settings.as_dict(), "candidates": [
        {**candidate.evidence(), "number": candidate.case.number,
         "title": masking.text_for(actor, candidate.case.title), "status": candidate.case.status}
        for candidate in found]})


def _reason(body: dict, allowed: set[str]):
    """The body's reason, once it names no field beyond `allowed` (the service checks the reason itself)."""
    unknown = {name: ["含有未定义的字段"] for name in body if name not in allowed | {idempotency.BODY_FIELD}}
    if unknown:
        raise ApiError(422, "form_invalid", "含有未定义的字段", unknown)
    return body.get("reason", "")


@route(f"/cases/{CASE_ID}/merge", ("POST",), summary="合并到主件", tags=("cases",), roles=MERGE_ROLES,
       params=[IDEMPOTENCY], body=ref("MergeRequest"), if_match=True,
       description="把本事件作为重复件合并到 master_id 所指的主件：本事件随主件办理，反映人收到进度通知，"
                   "回访时在本事件上评价。不能合并到自己、已合并的事件，不能合并已办结或作废的事件，不允许合并链。",
       responses={200: ("合并后的本事件", ref("CaseDetail")), 403: ("无权合并", ref("Problem")),
                  404: ("事件不存在或不在管辖范围内", ref("Problem")), 409: ("不能合并", ref("Problem")),
                  422: ("请求有误（按字段）", ref("Problem"))})
@roles_required(*MERGE_ROLES, what="合并重复件")
def merge_case(case_id: int):
    actor = current_actor()
    case = case_in_scope(actor, case_id)
    body = json_body()
    reason = _reason(body, {"master_id", "reason"})
    master_id = body.get("master_id")
    if not isinstance(master_id, int) or isinstance(master_id, bool):
        raise ApiError(422, "form_invalid", "请给出主件的事件 ID", {"master_id": ["应为事件 ID（整数）"]})
    master = case_in_scope(actor, master_id)
    return act_once(actor, case, body, lambda: duplicates.merge(platform(), db(), case, master, actor, reason=reason))


@route(f"/cases/{CASE_ID}/unmerge", ("POST",), summary="撤销合并", tags=("cases",), roles=MERGE_ROLES,
       params=[IDEMPOTENCY], body=ref("UnmergeRequest"), if_match=True,
       description="撤销本事件（重复件）的合并：恢复到合并时的状态、时限与处置部门；两件事件的办理经过都记下撤销。",
       responses={200: ("撤销后的本事件", ref("CaseDetail")), 403: ("无权撤销", ref("Problem")),
                  404: ("事件不存在或不在管辖范围内", ref("Problem")), 409: ("不能撤销", ref("Problem")),
                  422: ("请求有误（按字段）", ref("Problem"))})
@roles_required(*MERGE_ROLES, what="撤销合并")
def unmerge_case(case_id: int):
    actor = current_actor()
    case = case_in_scope(actor, case_id)
    body = json_body()
    reason = _reason(body, {"reason"})
    return act_once(actor, case, body, lambda: duplicates.undo(platform(), db(), case, actor, reason=reason))
