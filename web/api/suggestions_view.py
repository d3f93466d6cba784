"""智能分拨 in the API: the dispatch suggestions of one case, scoped like the case read."""
from __future__ import annotations

from minqing.core.models import Role
from minqing.workflows import dispatch

from ..context import db, platform
from .auth import current_actor, roles_required
from .cases import CASE_ID, case_in_scope
from .common import ref, route
from .errors import json_response

SUGGEST_ROLES = (Role.OPERATOR, Role.LEADER, Role.ADMIN)


@route(f"/cases/{CASE_ID}/suggestions", summary="分拨建议", tags=("cases",), roles=SUGGEST_ROLES,
       description="最可能的三个事件分类及其处置部门、置信度和理由（起作用的词、属地权责、相似的已办结事件，"
                   "相似事件仅限您的管辖范围）。仅为建议：分拨仍须执行 dispatch 步骤。",
       responses={200: ("分拨建议", ref("DispatchSuggestions")), 404: ("不存在或不在管辖范围内", ref("Problem"))})
@roles_required(*SUGGEST_ROLES, what="查看分拨建议")
def case_suggestions(case_id: int):
    actor = current_actor()
    case = case_in_scope(actor, case_id)
    suggestions = dispatch.suggest(platform(), db(), case, viewer=actor)
    model = dispatch.current_model(db())
    return json_response({"case_id": case.id, "model_version": model.version if model else None,
                          "suggestions": [suggestion.as_dict() for suggestion in suggestions]})
