"""The OpenAPI 3.1 document at /api/v1/openapi.json, built from the code: every rule of the `api` blueprint in
Flask's url_map, with the operation recorded by `common.route` (summary, parameters, body, answers, roles) and
the schemas below. A route without a recorded operation fails the document's test."""
from __future__ import annotations

import re

from flask import current_app

from ..converters import MAX_ID
from . import blueprint
from .common import OPERATIONS, ref, route
from .errors import json_response

UNDOCUMENTED = {"api.unknown_address"}   # the catch-all answering 404/405 in JSON: not an operation
RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
GEOJSON_SCHEMAS = {"Feature", "FeatureCollection"}

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
INTEGER = {"type": "integer"}
NULLABLE_INTEGER = {"type": ["integer", "null"]}
NUMBER_OR_NULL = {"type": ["number", "null"]}
TIME = {"type": ["string", "null"], "format": "date-time"}
OBJECT = {"type": "object"}


def _page(item: str) -> dict:
    return {"type": "object", "required": ["items", "total", "page", "per_page", "pages"], "properties": {
        "items": {"type": "array", "items": ref(item)}, "total": INTEGER, "page": INTEGER, "per_page": INTEGER,
        "pages": INTEGER}}


CASE = {"type": "object", "required": ["id", "number", "title", "theme", "status", "urgency", "version"],
        "properties": {
            "id": INTEGER, "number": STRING, "title": STRING, "theme": STRING, "theme_version": INTEGER,
            "category": STRING, "subcategory": STRING,
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
    "gender": STRING, "age": NULLABLE_INTEGER, "phone": {**NULLABLE_STRING, "description": "除网格员、指挥中心外遮蔽"},
    "household_id": NULLABLE_INTEGER, "relation": STRING, "residency": STRING, "ethnicity": STRING, **LOCATED}}

SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"], "properties": {
            "code": {**STRING, "description": "稳定的机器可读代码"}, "message": {**STRING, "description": "中文说明"},
            "fields": {"type": "object", "description": "按字段（请求体路径或查询参数）的问题",
                       "additionalProperties": {"type": "array", "items": STRING}}}}}},
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
    "TimelineEvent": {"type": "object", "required": ["id", "at", "action", "title"], "properties": {
        "id": INTEGER, "at": TIME, "action": STRING, "title": STRING, "from_status": NULLABLE_STRING,
        "to_status": NULLABLE_STRING, "actor": STRING, "comment": STRING, "form": OBJECT, "deadline_at": STRING}},
    "CaseDetail": {"allOf": [ref("Case"), {"type": "object", "properties": {
        "description": STRING, "form_data": OBJECT, "schema_version": STRING, "reporter_name": STRING,
        "reporter_phone": STRING, "rework_count": INTEGER,
        "attachments": {"type": "array", "items": ref("Attachment")},
        "timeline": {"type": "array", "items": ref("TimelineEvent")},
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
        "features": {"type": "array", "items": ref("Feature")}, "bbox": BBOX_ARRAY}},
    "Layer": {"type": "object", "required": ["key", "title"], "properties": {
        "key": STRING, "title": STRING, "department": STRING, "department_name": STRING,
        "kind": {"type": "string", "enum": ["theme", "computed"]}, "geometry": STRING, "style": OBJECT,
        "icon": STRING, "colour": STRING}},
    "Visit": {"type": "object", "required": ["id", "kind", "target_id"], "properties": {
        "id": INTEGER, "kind": STRING, "target_id": INTEGER, "visitor_account_id": NULLABLE_INTEGER,
        "visited_at": TIME, "lon": NUMBER_OR_NULL, "lat": NUMBER_OR_NULL, "summary": STRING,
        "theme": NULLABLE_STRING, "form_data": OBJECT, **LOCATED}},
    "VisitCreate": {"type": "object", "required": ["kind", "target_id", "summary"], "properties": {
        "kind": {"type": "string", "enum": ["key_person", "key_place", "household"]},
        "target_id": {"type": "integer", "minimum": 1}, "summary": {"type": "string", "minLength": 2,
                                                                    "maxLength": 2000},
        "lon": {"type": "number"}, "lat": {"type": "number"}, "client_id": {**STRING, "maxLength": 200}}},
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
    if schema.get("$ref", "").rsplit("/", 1)[-1] in GEOJSON_SCHEMAS:
        media = "application/geo+json"
    return {"content": {media: {"schema": schema}}}


def _operation(spec: dict, path_parameters: list[dict]) -> dict:
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
    if spec["public"]:
        operation["security"] = []
    else:
        operation["responses"].setdefault("401", {"description": "缺少接口密钥，或密钥无效、已吊销",
                                                  **_content(ref("Error"))})
        if spec["roles"]:
            operation["responses"].setdefault("403", {"description": "角色无权", **_content(ref("Error"))})
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
                             lambda _endpoint, spec, parameters: _operation(spec, parameters))
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
