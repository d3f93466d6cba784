"""The OpenAPI 3.1 document at /api/v1/openapi.json, built from the code: every rule of the `api` blueprint in
Flask's url_map, with the operation recorded by `common.route` (summary, parameters, body, answers, roles) and
the schemas below. A route without a recorded operation fails the document's test."""
from __future__ import annotations

import re

from flask import current_app

from ..converters import MAX_ID
from . import blueprint
from .common import OPERATIONS, ref, route
from .errors import PROBLEM_JSON, json_response

UNDOCUMENTED: set[str] = set()   # every route of the blueprint is an operation
TIME_ANSWER = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}$"  # the city's offset
RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
GEOJSON_SCHEMAS = {"Feature", "FeatureCollection"}

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
INTEGER = {"type": "integer"}
NULLABLE_INTEGER = {"type": ["integer", "null"]}
NUMBER_OR_NULL = {"type": ["number", "null"]}
TIME = {"type": ["string", "null"], "format": "date-time", "pattern": TIME_ANSWER,
        "description": "RFC 3339，城市时区的时差（如 +08:00，见 minqing init），精确到秒"}
OBJECT = {"type": "object"}


FIELD_ERRORS = {"type": "object", "description": "按字段（请求体路径、查询参数或请求头）的问题（中文）",
                "additionalProperties": {"type": "array", "items": STRING}}
PROBLEM = {
    "type": "object", "required": ["type", "title", "status", "detail", "code"],
    "description": "RFC 9457 问题详情（application/problem+json）", "properties": {
        "type": {**STRING, "format": "uri", "description": "问题类型：about:blank 或 urn:minqing:problem:<code>"},
        "title": {**STRING, "description": "状态码的中文说明"}, "status": {"type": "integer", "minimum": 400,
                                                                 "maximum": 599},
        "detail": {**STRING, "description": "这一次的中文说明"}, "code": {**STRING, "description": "稳定的机器可读代码"},
        "errors": FIELD_ERRORS,
        "error": {"type": "object", "required": ["code", "message"], "description": "v1 的旧格式，保留以兼容",
                  "properties": {"code": STRING, "message": STRING, "fields": FIELD_ERRORS}}}}


def _page(item: str) -> dict:
    return {"type": "object", "required": ["items", "total", "page", "per_page", "pages"], "properties": {
        "items": {"type": "array", "items": ref(item)}, "total": INTEGER, "page": INTEGER, "per_page": INTEGER,
        "pages": INTEGER}}


CASE = {"type": "object", "required": ["id", "number", "title", "theme", "status", "urgency", "version"],
        "properties": {
            "id": INTEGER, "number": STRING, "title": STRING, "theme": STRING, "theme_version": INTEGER,
            "category": {**STRING, "description": "事件类别代码（与上报时 POST /cases 的 category 相同）"},
            "category_group": {**STRING, "description": "类别所属大类的名称"},
            "subcategory": {**STRING, "deprecated": True, "description": "同 category（旧名，将移除）"},
            "urgency": {"type": "string", "enum": ["normal", "urgent", "critical"]}, "status": STRING,
            "status_title": STRING, "final": {"type": "boolean"}, "workflow": STRING, "source": STRING,
            "department_id": NULLABLE_INTEGER, "grid_id": NULLABLE_INTEGER, "region_code": STRING,
            "lon": NUMBER_OR_NULL, "lat": NUMBER_OR_NULL, "address": {**STRING, "description": "按角色遮蔽门牌号"},
            "created_at": TIME, "updated_at": TIME, "state_deadline_at": TIME, "due_at": TIME, "closed_at": TIME,
            "overdue": {"type": "boolean"}, "version": {**INTEGER, "description": "乐观锁版本，可作 If-Match"}}}
GEOMETRY = {"type": ["object", "null"], "description": "RFC 7946 几何（WGS84 经纬度）",
            "properties": {"type": STRING, "coordinates": {"type": "array"}}}
BBOX_ARRAY = {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}
VISIT_DUE = {"visit_every_days": INTEGER, "last_visit_at": TIME,
             "next_visit_due": {"type": ["string", "null"], "format": "date"}}
LOCATED = {"grid_id": NULLABLE_INTEGER, "region_code": STRING}
RESIDENT = {"type": "object", "required": ["id", "name", "id_number"], "properties": {
    "id": INTEGER, "name": STRING, "id_number": {**STRING, "description": "一律遮蔽，如 620102********1234"},
    "gender": STRING,
    "age": {**NULLABLE_INTEGER, "description": "仅本辖区网格员、指挥中心操作员（可查看完整身份证号者）可见，其余为 null"},
    "phone": {**NULLABLE_STRING, "description": "除网格员、指挥中心外遮蔽"},
    "household_id": NULLABLE_INTEGER, "relation": STRING, "residency": STRING, "ethnicity": STRING, **LOCATED}}

INDICATOR_COUNTS = {name: {"type": "number"} for name in (
    "reported", "acceptance_due", "accepted_on_time", "closure_due", "closed_on_time", "overdue", "with_feedback",
    "reworked", "rated", "satisfied", "closed", "handling_seconds", "dispatched", "returned", "duplicates",
    "records", "fresh_records", "households", "cadre_visited", "responded", "solved", "supervised",
    "overdue_reworked")}
RATES = {name: NUMBER_OR_NULL for name in (
    "timely_acceptance_rate", "on_time_closure_rate", "rework_rate", "satisfaction_rate", "average_handling_hours",
    "dispatch_accuracy", "return_rate", "duplicate_share", "freshness_rate", "cadre_coverage_rate", "response_rate",
    "resolution_rate")}
INDICATORS = {"type": ["object", "null"], "properties": {**INDICATOR_COUNTS, **RATES}}
SCORE = {"type": ["object", "null"], "description": "考核方案计分：总分、各指标得分、扣分（发布于考核方案启用前的排名为 null）",
         "properties": {"total": {"type": "number"},
                        "parts": {"type": "array", "items": {"type": "object", "properties": {
                            "indicator": STRING, "title": STRING, "value": NUMBER_OR_NULL, "weight": {"type": "number"},
                            "points": {"type": "number"}}}},
                        "deductions": {"type": "array", "items": {"type": "object", "properties": {
                            "count": STRING, "title": STRING, "cases": INTEGER, "points": {"type": "number"}}}}}}
APPEAL = {"type": "object", "required": ["id", "case_id", "period", "ground", "status"], "properties": {
    "id": INTEGER, "case_id": INTEGER, "case_number": STRING, "department_id": INTEGER,
    "period": {**STRING, "description": "事件上报所在月份，如 2026-11"},
    "ground": {"type": "string", "enum": ["dispatch_error", "force_majeure", "out_of_remit", "other"]},
    "ground_title": STRING, "reason": STRING,
    "status": {"type": "string", "enum": ["pending", "approved", "rejected", "withdrawn"]}, "status_title": STRING,
    "filed_by": STRING, "filed_at": TIME, "decided_by": NULLABLE_STRING, "decided_at": TIME,
    "decision_reason": STRING}}
RANKING = {"type": "object", "required": ["period", "status", "standings", "appeals"], "properties": {
    "period": STRING, "title": STRING, "dimension": STRING,
    "status": {"type": "string", "enum": ["open", "published"], "description": "open：未发布（申诉期），实时计算"},
    "starts_at": TIME, "ends_at": TIME, "as_of": TIME, "published_at": TIME, "published_by": NULLABLE_STRING,
    "pending_appeals": INTEGER,
    "scheme": {"type": ["object", "null"], "description": "计分所用的考核方案版本（scope 为空表示全市方案，version 0 为内置默认）",
               "properties": {"scope": STRING, "version": INTEGER, "title": STRING}},
    "standings": {"type": "array", "items": {"type": "object", "properties": {
        "department_id": INTEGER, "name": STRING, "rank": INTEGER, "baseline_rank": NULLABLE_INTEGER,
        "appeal_ids": {"type": "array", "items": INTEGER}, "indicators": INDICATORS,
        "baseline": {**INDICATORS, "description": "不计申诉时的指标"}, "score": SCORE,
        "baseline_score": {**SCORE, "description": "不计申诉时的计分"}}}},
    "appeals": {"type": "array", "items": {"type": "object", "properties": {
        "id": INTEGER, "case_id": INTEGER, "case_number": STRING, "department_id": INTEGER,
        "department_name": STRING, "ground": STRING, "ground_title": STRING, "decision_reason": STRING,
        "decided_at": TIME}}}}}

SCHEMAS = {
    "Appeal": APPEAL,
    "AppealPage": _page("Appeal"),
    "AppealCreate": {"type": "object", "required": ["ground", "reason"], "properties": {
        "ground": APPEAL["properties"]["ground"], "reason": {"type": "string", "minLength": 5, "maxLength": 1000}}},
    "AppealDecision": {"type": "object", "required": ["decision", "reason"], "properties": {
        "decision": {"type": "string", "enum": ["approve", "reject"]},
        "reason": {"type": "string", "minLength": 5, "maxLength": 1000}}},
    "Ranking": RANKING,
    "Problem": PROBLEM,
    "Error": {**ref("Problem"), "description": "旧名，同 Problem"},
    "Theme": {"type": "object", "required": ["key", "title", "department"], "properties": {
        "key": STRING, "title": STRING, "department": STRING, "department_name": STRING, "description": STRING,
        "icon": STRING, "colour": STRING, "workflow": STRING,
        "categories": {"type": "array", "items": {"type": "object", "properties": {
            "code": STRING, "title": STRING, "parent": STRING}}},
        "forms": {"type": "array", "items": {"type": "string", "enum": ["report", "record", "visit"]}}}},
    "ThemeDetail": {"allOf": [ref("Theme"), {"type": "object", "properties": {
        "guide": STRING, "schemas": {"type": "object", "description": "主题的表单（JSON Schema）", "properties": {
            "report": OBJECT, "record": OBJECT, "visit": OBJECT}},
        "ui": OBJECT, "case_request_schema": {**OBJECT, "description": "POST /cases 请求体（除 theme、client_id）"}}}]},
    "Case": CASE,
    "DispatchSuggestions": {"type": "object", "required": ["case_id", "suggestions"], "properties": {
        "case_id": INTEGER, "model_version": NULLABLE_STRING, "suggestions": {"type": "array", "items": {
            "type": "object", "required": ["rank", "code", "title", "department_key", "confidence", "reason"],
            "properties": {
                "rank": INTEGER, "code": STRING, "title": STRING, "parent": STRING, "theme_key": STRING,
                "theme_title": STRING, "department_key": STRING, "department_name": STRING,
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "words": {"type": "array", "items": STRING}, "responsibility": STRING, "reason": STRING,
                "similar": {"type": "array", "items": {"type": "object", "properties": {
                    "id": INTEGER, "number": STRING, "title": STRING, "similarity": {"type": "number"}}}}}}}}},
    "JointHandling": {"type": "object", "required": ["case_id", "lead", "co_handlers", "transfers"], "properties": {
        "case_id": INTEGER, "status": STRING, "version": INTEGER,
        "lead": {"type": ["object", "null"], "description": "主办部门", "properties": {"key": STRING, "name": STRING}},
        "co_handlers": {"type": "array", "items": {"type": "object", "required": ["id", "department", "status"],
                                                    "properties": {
            "id": INTEGER, "department": STRING, "department_name": STRING,
            "status": {"type": "string", "enum": ["open", "answered", "overruled", "withdrawn"]},
            "status_title": STRING, "instructions": STRING, "requested_by": STRING, "requested_at": TIME,
            "deadline_at": TIME, "overdue": {"type": "boolean"}, "feedback": STRING,
            "photos": {"type": "array", "items": STRING}, "answered_by": STRING, "answered_at": TIME,
            "decided_by": STRING, "decided_at": TIME, "decision_reason": STRING}}},
        "transfers": {"type": "array", "description": "转办记录", "items": {"type": "object", "properties": {
            "from": STRING, "from_name": STRING, "to": STRING, "to_name": STRING, "reason": STRING, "by": STRING,
            "at": TIME}}},
        "fallback": {"type": ["object", "null"], "description": "本区划（就近上级）的兜底部门", "properties": {
            "region_code": STRING, "department": STRING, "department_name": STRING}},
        "returns": {**INTEGER, "description": "被职能部门退回的次数"}}},
    "DuplicateCandidates": {"type": "object", "required": ["case_id", "candidates"], "properties": {
        "case_id": INTEGER, "settings": {"type": "object", "description": "主题的重复件设置（未设置的取默认值）",
                                         "properties": {"distance_m": {"type": "number"}, "hours": {"type": "number"},
                                                        "closed_days": {"type": "number"},
                                                        "min_score": {"type": "number"}, "photo_bits": INTEGER,
                                                        "limit": INTEGER}},
        "candidates": {"type": "array", "items": {
            "type": "object", "required": ["case_id", "number", "distance_m", "hours_apart", "score"],
            "properties": {
                "case_id": INTEGER, "number": STRING, "title": STRING, "status": STRING,
                "distance_m": {"type": "number", "description": "相距（米）"},
                "hours_apart": {"type": "number", "description": "上报时间相差（小时）"},
                "text_similarity": {"type": "number", "minimum": 0, "maximum": 1,
                                    "description": "标题与描述的字二元组相似度"},
                "same_category": {"type": "boolean"}, "same_subcategory": {"type": "boolean"},
                "photo_match": {"type": "boolean"},
                "photo_bits": {**NULLABLE_INTEGER, "description": "最接近的两张照片感知哈希相差的位数"},
                "score": {"type": "number", "minimum": 0, "maximum": 1}}}}}},
    "MergeRequest": {"type": "object", "required": ["master_id", "reason"], "properties": {
        "master_id": {**INTEGER, "description": "主件的事件 ID"},
        "reason": {"type": "string", "minLength": 2, "maxLength": 1000}, "client_id": {**STRING, "maxLength": 200}}},
    "UnmergeRequest": {"type": "object", "required": ["reason"], "properties": {
        "reason": {"type": "string", "minLength": 2, "maxLength": 1000}, "client_id": {**STRING, "maxLength": 200}}},
    "TimelineEvent": {"type": "object", "required": ["id", "at", "action", "title"], "properties": {
        "id": INTEGER, "at": TIME, "action": STRING, "title": STRING, "from_status": NULLABLE_STRING,
        "to_status": NULLABLE_STRING, "actor": STRING, "comment": STRING, "form": OBJECT, "deadline_at": TIME}},
    "CaseDetail": {"allOf": [ref("Case"), {"type": "object", "properties": {
        "description": STRING, "form_data": OBJECT, "schema_version": STRING, "reporter_name": STRING,
        "reporter_phone": STRING, "rework_count": INTEGER,
        "rehandling": {"type": "object", "description": "重办：次数、流程的上限、是否督办中", "properties": {
            "count": INTEGER, "limit": {"type": ["integer", "null"]}, "supervised": {"type": "boolean"}}},
        "attachments": {"type": "array", "items": ref("Attachment")},
        "timeline": {"type": "array", "items": ref("TimelineEvent")},
        "merged_into": {"type": ["object", "null"], "description": "重复件：所合并到的主件",
                        "properties": {"id": INTEGER, "number": STRING}},
        "merged": {"type": "array", "description": "主件：已并入的重复件", "items": {
            "type": "object", "properties": {"id": INTEGER, "number": STRING, "status": STRING}}},
        "transitions": {"type": "array", "items": {"type": "object", "properties": {
            "name": STRING, "title": STRING, "form": OBJECT}}}}}]},
    "CasePage": _page("Case"),
    "CaseCreate": {"type": "object", "required": ["theme", "title", "category"], "description":
                   "主题的 case_request_schema 描述的文档，加上 theme（与可选的 client_id）", "properties": {
                       "theme": STRING, "client_id": {**STRING, "maxLength": 200}, "title": STRING,
                       "category": STRING, "urgency": {"type": "string", "enum": ["normal", "urgent", "critical"]},
                       "location": {"type": "object", "properties": {"lon": {"type": "number"},
                                                                     "lat": {"type": "number"}}},
                       "details": {**OBJECT, "description": "主题的上报表单"}, "kind": STRING}},
    "Attachment": {"type": "object", "required": ["id"], "properties": {
        "id": STRING, "filename": STRING, "content_type": STRING, "size": INTEGER}},
    "Feature": {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": ["integer", "string"]},
        "geometry": GEOMETRY, "properties": {"type": ["object", "null"]}, "bbox": BBOX_ARRAY}},
    "FeatureCollection": {"type": "object", "required": ["type", "features"], "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": ref("Feature")}, "bbox": BBOX_ARRAY,
        "numberMatched": {"type": "integer", "minimum": 0, "description": "符合条件的要素总数（各页合计）"},
        "numberReturned": {"type": "integer", "minimum": 0, "description": "本页的要素数"},
        "links": {"type": "array", "description": "self 与 next（下一页；没有 next 即最后一页）",
                  "items": {"type": "object", "required": ["rel", "href"], "properties": {
                      "rel": STRING, "href": STRING, "type": STRING}}}}},
    "Layer": {"type": "object", "required": ["key", "title"], "properties": {
        "key": STRING, "title": STRING, "department": STRING, "department_name": STRING,
        "kind": {"type": "string", "enum": ["theme", "computed"]}, "geometry": STRING, "style": OBJECT,
        "icon": STRING, "colour": STRING,
        "records": {"type": "boolean", "description": "图层是否有台账记录（可用 field/value、patrol 筛选）"},
        "patrol_every_days": {"type": ["integer", "null"], "description": "台账记录的巡查周期（天）"},
        "filters": {"type": "array", "description": "可筛选的台账字段及其取值（GET /layers/{key}/features 的 field/value）",
                    "items": {"type": "object", "required": ["key", "title", "values"], "properties": {
                        "key": STRING, "title": STRING,
                        "values": {"type": "array", "items": {"type": "object", "required": ["value", "label"],
                                                              "properties": {"value": STRING, "label": STRING}}}}}}}},
    "Visit": {"type": "object", "required": ["id", "kind", "target_id"], "properties": {
        "id": INTEGER, "kind": STRING, "target_id": INTEGER, "visitor_account_id": NULLABLE_INTEGER,
        "visited_at": TIME, "lon": NUMBER_OR_NULL, "lat": NUMBER_OR_NULL, "summary": STRING,
        "theme": NULLABLE_STRING, "form_data": OBJECT, **LOCATED}},
    "VisitCreate": {"type": "object", "required": ["kind", "target_id", "summary"], "properties": {
        "kind": {"type": "string", "enum": ["key_person", "key_place", "household"]},
        "target_id": {"type": "integer", "minimum": 1}, "summary": {"type": "string", "minLength": 2,
                                                                    "maxLength": 2000},
        "lon": {"type": "number"}, "lat": {"type": "number"}, "client_id": {**STRING, "maxLength": 200},
        # 走村入户 (kind household only): whom they met, the needs, a 帮办实事 promised
        "met": {**STRING, "maxLength": 100}, "needs": {**STRING, "maxLength": 1000}, "promised": {"type": "boolean"},
        "promise_text": {**STRING, "maxLength": 500},
        "promise_deadline": {"type": "string", "format": "date", "description": "办理期限（默认 30 天后）"}}},
    "VisitPage": _page("Visit"),
    "Resident": RESIDENT,
    "Household": {"type": "object", "required": ["id", "number"], "properties": {
        "id": INTEGER, "number": STRING, "head_name": STRING, "size": INTEGER, "house_id": NULLABLE_INTEGER,
        "address": STRING, "last_visit_at": TIME, **LOCATED}},
    "KeyPerson": {"type": "object", "required": ["id", "category"], "properties": {
        "id": INTEGER, "category": STRING, "risk_level": STRING, "note": STRING,
        "resident": {"oneOf": [ref("Resident"), {"type": "null"}]}, **LOCATED, **VISIT_DUE}},
    "KeyPlace": {"type": "object", "required": ["id", "name"], "properties": {
        "id": INTEGER, "name": STRING, "category": STRING, "address": STRING, "lon": NUMBER_OR_NULL,
        "lat": NUMBER_OR_NULL, "department": NULLABLE_STRING, **LOCATED, **VISIT_DUE}},
    "Unit": {"type": "object", "required": ["id", "name"], "properties": {
        "id": INTEGER, "name": STRING, "credit_code": NULLABLE_STRING, "kind": STRING, "address": STRING,
        "lon": NUMBER_OR_NULL, "lat": NUMBER_OR_NULL, "contact_name": STRING, "contact_phone": NULLABLE_STRING,
        "employees": INTEGER, **LOCATED}},
}


def openapi_path(rule: str, prefix: str | None = None) -> tuple[str, list[dict]]:
    """'/api/v1/cases/<int:case_id>' → ('/cases/{case_id}', [its path parameter]), relative to `prefix` (the
    API's by default; Open311's document passes its own)."""
    parameters = []

    def replace(match):
        converter = match.group("converter") or "string"
        schema = {"type": "integer", "minimum": 0, "maximum": MAX_ID} if converter == "int" else {"type": "string"}
        parameters.append({"name": match.group("name"), "in": "path", "required": True, "schema": schema})
        return "{" + match.group("name") + "}"

    path = RULE_ARGUMENT.sub(replace, rule)
    return path.removeprefix(blueprint.url_prefix if prefix is None else prefix) or "/", parameters


def _content(schema: dict | None, media: str = "application/json") -> dict:
    if schema is None:
        return {}
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    if name in GEOJSON_SCHEMAS:
        media = "application/geo+json"
    elif name in ("Problem", "Error"):
        media = PROBLEM_JSON
    return {"content": {media: {"schema": schema}}}


def _problem(text: str) -> dict:
    return {"description": text, **_content(ref("Problem"))}


def _http_answers(operation: dict, spec: dict, method: str) -> None:
    """The answers HTTP itself gives to any such operation: 304 to a GET naming the current ETag, 400 for a bad
    query parameter or body, 415 for a body that is not JSON, 412 for a stale (or unsupported) If-Match."""
    answers = operation["responses"]
    if method == "get":
        answers.setdefault("304", {"description": "未改动（If-None-Match 与当前 ETag 相同），无内容"})
    if any(param["in"] == "query" for param in spec["params"]):
        answers.setdefault("400", _problem("查询参数有误（说明哪个参数、可选的值）"))
    if spec["body"] is not None:
        answers.setdefault("400", _problem("请求体不是 JSON 对象"))
        if spec["body_content"] == "application/json":
            answers.setdefault("415", _problem("请求体不是 application/json"))
    if spec["if_match"]:
        answers.setdefault("412", _problem("If-Match 与当前 ETag 不符：已被他人改动，请重新读取"))


def _operation(spec: dict, path_parameters: list[dict], method: str) -> dict:
    operation = {"operationId": spec["operationId"], "summary": spec["summary"], "tags": spec["tags"],
                 "parameters": path_parameters + spec["params"], "responses": {}}
    description = spec["description"]
    if spec["roles"]:
        description = (description + "\n\n" if description else "") + "角色：" + "、".join(spec["roles"])
    if description:
        operation["description"] = description
    if spec["body"] is not None:
        operation["requestBody"] = {"required": True, **_content(spec["body"], spec["body_content"])}
    for status, (text, schema) in sorted(spec["responses"].items()):
        operation["responses"][str(status)] = {"description": text, **_content(schema)}
    _http_answers(operation, spec, method)
    if spec["public"]:
        operation["security"] = []
    else:
        operation["responses"].setdefault("401", _problem("缺少接口密钥，或密钥无效、已吊销"))
        if spec["roles"]:
            operation["responses"].setdefault("403", _problem("角色无权"))
    operation["responses"] = dict(sorted(operation["responses"].items()))
    return operation


def documented_paths(app, blueprint_name: str, prefix: str, operations: dict[str, dict[str, dict]],
                     undocumented: set[str], build) -> dict[str, dict]:
    """The OpenAPI `paths` of one blueprint: each of its rules in Flask's url_map with the operation recorded for
    its endpoint and method, made by `build(endpoint, spec, path_parameters)`. Open311's document uses it too."""
    paths: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in undocumented or not rule.endpoint.startswith(f"{blueprint_name}."):
            continue
        path, parameters = openapi_path(rule.rule, prefix)
        for method, spec in operations.get(rule.endpoint, {}).items():
            if method.upper() in rule.methods:
                paths.setdefault(path, {})[method] = build(rule.endpoint, spec, parameters)
    return dict(sorted(paths.items()))


def document(app) -> dict:
    paths = documented_paths(app, blueprint.name, blueprint.url_prefix, OPERATIONS, UNDOCUMENTED,
                             lambda _endpoint, spec, parameters: _operation(spec, parameters, spec["method"]))
    return {
        "openapi": "3.1.0",
        "info": {"title": "民情地图 REST API", "version": "1.0.0",
                 "description": "网格化社会治理平台的接口：业务主题与表单、事件上报与办理、网格与图层（GeoJSON）、"
                                "走访与基础数据。与网页相同的角色与管辖范围；个人信息按角色遮蔽。见 docs/api.md。"},
        "servers": [{"url": blueprint.url_prefix}],
        "security": [{"bearer": []}, {"apiKey": []}],
        "tags": [{"name": "themes", "description": "业务主题与表单"}, {"name": "cases", "description": "事件"},
                 {"name": "geo", "description": "网格、区划与图层"}, {"name": "visits", "description": "走访"},
                 {"name": "base-data", "description": "基础数据（一标三实、重点人员与场所）"},
                 {"name": "appeals", "description": "申诉与考核排名"},
                 {"name": "records", "description": "台账记录（业务主题的对象）"},
                 {"name": "meta", "description": "接口文档"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "minqing apikey create 生成的密钥"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": SCHEMAS,
        },
    }


@route("/openapi.json", summary="本接口的 OpenAPI 3.1 文档", tags=("meta",), public=True,
       responses={200: ("OpenAPI 文档", {"type": "object"})})
def openapi_document():
    return json_response(document(current_app._get_current_object()))
