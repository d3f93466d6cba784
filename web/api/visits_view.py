"""走访/巡查: a grid worker or cadre records a visit (through `core.visits.record_visit`; a household's through
`core.visits.record_household_visit`, the work end's service); visits in scope are listed."""
from __future__ import annotations

import math

from flask import request, url_for
from sqlalchemy import select

from minqing.core import scope, visits
from minqing.core.models import Role, Visit

from ..context import db
from . import idempotency, present
from .auth import WORK_ROLES, current_actor, roles_required
from .common import IDEMPOTENCY, PAGING, choice_arg, int_arg, json_body, paginated, query, ref, route
from .errors import ApiError, json_response

FIELDS = ("kind", "target_id", "summary", "lon", "lat", idempotency.BODY_FIELD, *visits.HOUSEHOLD_FIELDS)
VISITORS = (Role.GRID_WORKER, Role.CADRE)
READERS = (*WORK_ROLES, Role.CADRE)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _problems(body: dict) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {name: ["含有未定义的字段"] for name in body if name not in FIELDS}
    if body.get("kind") not in visits.TARGETS:
        problems["kind"] = [f"走访对象类型只能是 {'、'.join(visits.TARGETS)}"]
    target = body.get("target_id")
    if not isinstance(target, int) or isinstance(target, bool) or target < 1:
        problems["target_id"] = ["请填写走访对象的编号（正整数）"]
    summary = body.get("summary")
    if not isinstance(summary, str) or len(summary.strip()) < 2:
        problems["summary"] = ["走访情况：请至少填写2个字"]
    elif len(summary) > 2000:
        problems["summary"] = ["走访情况：最多 2000 字"]
    for name, limit in (("lon", 180), ("lat", 90)):
        value = body.get(name)
        if value is not None and (not _number(value) or abs(value) > limit):
            problems[name] = [f"应为 -{limit} 至 {limit} 之间的数字（WGS84）"]
    if body.get("kind") != "household":
        for name in visits.HOUSEHOLD_FIELDS:
            if name in body:
                problems[name] = ["只有走访住户（household）时填写"]
    for name in ("met", "needs", "promise_text", "promise_deadline"):
        if name in body and not isinstance(body[name], str):
            problems[name] = ["应为文字"]
    if "promised" in body and not isinstance(body["promised"], bool):
        problems["promised"] = ["应为 true 或 false"]
    if (body.get("lon") is None) != (body.get("lat") is None):
        problems.setdefault("lon" if body.get("lon") is None else "lat", []).append("经度和纬度须同时给出")
    return problems


@route("/visits", ("POST",), summary="记录走访", tags=("visits",), roles=VISITORS,
       description="网格员、干部走访重点人员、重点场所或住户；对象须在其范围内。走访住户时可填 met（见到的人）、needs（诉求）、promised（是否承诺帮办实事）、promise_text、"
                   "promise_deadline（办理期限，年-月-日，默认 30 天后）；"
                   "填了其中任一项即按入户走访记录，此时须填 met。"
                   "幂等：Idempotency-Key 或 client_id。",
       params=[IDEMPOTENCY], body=ref("VisitCreate"),
       responses={201: ("已记录（重试时为第一次的结果）", ref("Visit")), 403: ("角色无权走访", ref("Problem")),
                  422: ("内容有误或对象不在网格内", ref("Problem"))})
@roles_required(*VISITORS, what="记录走访")
def create_visit():
    actor = current_actor()
    body = json_body()
    key = idempotency.key_of(body)

    def work():
        problems = _problems(body)
        if problems:
            raise ApiError(422, "form_invalid", "填写的内容有误", problems)
        client_id = idempotency.client_id_for(actor.account_id, key, "apiv-") if key else None
        try:
            # 走村入户, the work end's service, as soon as any household field is given: it asks for `met` itself
            # (a promise without whom was met is refused, never recorded as a plain visit without its promise)
            if body["kind"] == "household" and any(name in body for name in visits.HOUSEHOLD_FIELDS):
                visit = visits.record_household_visit(
                    db(), actor, household_id=body["target_id"], met=body.get("met", ""), needs=body.get("needs", ""),
                    promised=body.get("promised", False), promise_text=body.get("promise_text", ""),
                    promise_deadline=body.get("promise_deadline"), summary=body["summary"], lon=body.get("lon"), lat=body.get("lat"), client_id=client_id)
            else:
                visit = visits.record_visit(
                    db(), actor, kind=body["kind"], target_id=body["target_id"], summary=body["summary"],
                    lon=body.get("lon"), lat=body.get("lat"), client_id=client_id)
        except visits.VisitRefused as error:
            field = error.field or "target_id"
            raise ApiError(422, "visit_refused", str(error), {field: [str(error)]}) from None
        db().flush()
        return 201, present.visit(actor, visit)

    status, answer, replayed = idempotency.run_once(db(), actor, key, "POST", request.path, body, work)
    db().commit()
    headers = {"Location": url_for("api.read_visit", visit_id=answer["id"])}
    if replayed:
        headers[idempotency.REPLAYED_HEADER] = "true"
    return json_response(answer, status, headers)


@route("/visits", summary="走访记录列表", tags=("visits",), roles=READERS,
       params=[query("kind", "走访对象类型", {"type": "string", "enum": list(visits.TARGETS)}),
               query("target_id", "走访对象编号", {"type": "integer", "minimum": 1}), *PAGING],
       responses={200: ("一页走访记录", ref("VisitPage")), 400: ("参数有误", ref("Problem"))})
@roles_required(*READERS, what="查看走访记录")
def list_visits():
    actor = current_actor()
    statement = scope.restrict(select(Visit), Visit, actor)
    if kind := choice_arg("kind", list(visits.TARGETS)):
        statement = statement.where(Visit.target_kind == kind)
    target_id = int_arg("target_id", minimum=1)
    if target_id:
        statement = statement.where(Visit.target_id == target_id)
    return paginated(statement, lambda rows: [present.visit(actor, row) for row in rows],
                     order_by=(Visit.visited_at.desc(), Visit.id.desc()))


@route("/visits/<int:visit_id>", summary="一条走访记录", tags=("visits",), roles=READERS,
       responses={200: ("走访记录", ref("Visit")), 404: ("不存在或不在管辖范围内", ref("Problem"))})
@roles_required(*READERS, what="查看走访记录")
def read_visit(visit_id: int):
    actor = current_actor()
    visit = db().scalar(scope.restrict(select(Visit).where(Visit.id == visit_id), Visit, actor))
    if visit is None:
        raise ApiError(404, "not_found", f"没有编号为 {visit_id} 的走访记录，或您无权查看")
    return json_response(present.visit(actor, visit))
