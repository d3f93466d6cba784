"""The OpenAPI 3.1 document of Open311 at /open311/v2/openapi.json, in the style of the REST API's: the paths come
from Flask's url_map (every rule of the `open311` blueprint), the operations from OPERATIONS below, so a new route
without its documentation fails the document's test. JSON answers carry their schemas; XML answers are the same
content under the spec's element names (docs/open311.md)."""
from __future__ import annotations

from flask import current_app

from ..api.openapi import documented_paths
from . import blueprint
from .output import answer

UNDOCUMENTED = {"open311.unknown"}   # the catch-all answering 404/405 in the spec's format: not an operation
STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_NUMBER = {"type": ["number", "null"]}
TIME = {"type": ["string", "null"], "description": "ISO 8601，带时区，如 2026-03-01T09:30:00+08:00"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(name: str) -> dict:
    return {"type": "array", "items": ref(name)}


SCHEMAS = {
    "Error": {"type": "object", "required": ["code", "description"], "properties": {
        "code": {"type": "integer"}, "description": {**STRING, "description": "中文说明，以出错的参数开头"}}},
    "Service": {"type": "object", "required": ["service_code", "service_name", "metadata", "type"], "properties": {
        "service_code": STRING, "service_name": STRING, "description": STRING, "metadata": {"type": "boolean"},
        "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]}, "keywords": STRING,
        "group": STRING}},
    "ServiceDefinition": {"type": "object", "required": ["service_code", "attributes"], "properties": {
        "service_code": STRING, "attributes": {"type": "array", "items": {
            "type": "object", "required": ["code", "datatype", "required", "order"], "properties": {
                "variable": {"type": "boolean"}, "code": STRING, "required": {"type": "boolean"},
                "datatype": {"type": "string", "enum": ["string", "number", "datetime", "text",
                                                        "singlevaluelist", "multivaluelist"]},
                "datatype_description": STRING, "order": {"type": "integer"}, "description": STRING,
                "values": {"type": "array", "items": {"type": "object", "required": ["key", "name"],
                                                      "properties": {"key": STRING, "name": STRING}}}}}}}},
    "ServiceRequest": {"type": "object", "required": ["service_request_id", "status"], "properties": {
        "service_request_id": STRING, "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": NULLABLE_STRING, "service_name": NULLABLE_STRING, "service_code": NULLABLE_STRING,
        "description": NULLABLE_STRING, "agency_responsible": NULLABLE_STRING, "service_notice": NULLABLE_STRING,
        "requested_datetime": TIME, "updated_datetime": TIME, "expected_datetime": TIME,
        "address": NULLABLE_STRING, "address_id": NULLABLE_STRING, "zipcode": NULLABLE_STRING,
        "lat": NULLABLE_NUMBER, "long": NULLABLE_NUMBER, "media_url": NULLABLE_STRING}},
    "Created": {"type": "object", "required": ["service_request_id", "token"], "properties": {
        "service_request_id": STRING, "token": STRING, "service_notice": NULLABLE_STRING,
        "account_id": NULLABLE_STRING}},
    "Token": {"type": "object", "required": ["service_request_id", "token"], "properties": {
        "service_request_id": STRING, "token": STRING}},
}


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or STRING}


API_KEY = _query("api_key", "接口密钥（minqing apikey create）；GET 时可省略，只看公开视图")
JURISDICTION = _query("jurisdiction_id", "接受并忽略（一个部署即一个辖区）")
REQUEST_FIELDS = {
    "api_key": STRING, "service_code": STRING, "lat": STRING, "long": STRING, "address_string": STRING,
    "address_id": STRING, "email": STRING, "device_id": STRING, "account_id": STRING, "first_name": STRING,
    "last_name": STRING, "phone": STRING, "description": STRING, "media_url": STRING, "jurisdiction_id": STRING}
OPERATIONS: dict[str, dict[str, dict]] = {
    "open311.services": {"get": {
        "summary": "服务列表：每个可用业务主题的每个事件类别", "params": [JURISDICTION],
        "responses": {200: ("服务", _array("Service"))}}},
    "open311.service_definition": {"get": {
        "summary": "服务定义：主题上报表单的字段（attributes）", "params": [JURISDICTION],
        "responses": {200: ("服务定义", ref("ServiceDefinition")), 404: ("没有这个服务", None)}}},
    "open311.list_requests": {"get": {
        "summary": "服务请求（事件）列表；无密钥时为公开视图", "params": [
            API_KEY, JURISDICTION, _query("service_request_id", "逗号分隔的编号"),
            _query("service_code", "逗号分隔的服务代码"),
            _query("start_date", "起始时间（ISO 8601）"), _query("end_date", "结束时间（ISO 8601），与起始相距至多 90 天"),
            _query("status", "open 或 closed，可用逗号分隔")],
        "responses": {200: ("服务请求", _array("ServiceRequest")), 400: ("参数有误", None),
                      403: ("接口密钥无效", None), 404: ("没有这个服务", None)}}},
    "open311.post_request": {"post": {
        "summary": "上报事件（需要 api_key），走平台的正常流程",
        "params": [{"name": "Idempotency-Key", "in": "header", "required": False, "schema": STRING,
                    "description": "幂等键：同一键的重试返回第一次的结果"}],
        "body": {"type": "object", "required": ["service_code"], "properties": REQUEST_FIELDS,
                 "additionalProperties": STRING, "description": "另可给出 attribute[代码]=值（多选为 attribute[代码][]）"},
        "responses": {201: ("已受理", _array("Created")), 400: ("参数或表单有误", None),
                      403: ("接口密钥无效", None)}}},
    "open311.get_request": {"get": {
        "summary": "一个服务请求", "params": [API_KEY, JURISDICTION],
        "responses": {200: ("服务请求", _array("ServiceRequest")), 403: ("接口密钥无效", None),
                      404: ("没有这个服务请求，或无权查看", None)}}},
    "open311.token": {"get": {
        "summary": "令牌对应的服务请求编号", "params": [JURISDICTION],
        "responses": {200: ("编号", _array("Token")), 404: ("没有这个令牌", None)}}},
    "open311.openapi_document": {"get": {
        "summary": "本接口的 OpenAPI 3.1 文档", "params": [], "public": True,
        "responses": {200: ("OpenAPI 文档", {"type": "object"})}}},
}


def _content(schema: dict | None, xml: bool) -> dict:
    """JSON with its schema (errors when `schema` is None), and, for the spec's routes, the same as XML."""
    content = {"application/json": {"schema": schema or _array("Error")}}
    if xml:
        content["text/xml"] = {"schema": STRING}
    return {"content": content}


def _path_parameters(parameters: list[dict]) -> list[dict]:
    for parameter in parameters:
        if parameter["name"] == "fmt":
            parameter["schema"] = {"type": "string", "enum": ["json", "xml"]}
            parameter["description"] = "回答的格式"
    return parameters


def _operation(endpoint: str, spec: dict, parameters: list[dict]) -> dict:
    xml = any(parameter["name"] == "fmt" for parameter in parameters)
    operation = {"operationId": endpoint.split(".", 1)[1], "summary": spec["summary"], "tags": ["open311"],
                 "parameters": _path_parameters(parameters) + spec["params"], "responses": {}}
    if "body" in spec:
        operation["requestBody"] = {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": spec["body"]}}}
    for status, (text, schema) in sorted(spec["responses"].items()):
        operation["responses"][str(status)] = {"description": text, **_content(schema, xml)}
    if spec.get("public"):
        operation["security"] = []
    return operation


def document(app) -> dict:
    paths = documented_paths(app, blueprint.name, blueprint.url_prefix, OPERATIONS, UNDOCUMENTED, _operation)
    return {
        "openapi": "3.1.0",
        "info": {"title": "民情地图 Open311 GeoReport v2", "version": "2.0.0",
                 "description": "以 Open311 GeoReport v2 规范提供的服务与服务请求：列出服务、读取服务定义、上报事件"
                                "并跟踪办理。回答按扩展名为 JSON 或 XML；错误为 [{code, description}]。见 docs/open311.md。"},
        "servers": [{"url": blueprint.url_prefix}],
        "security": [{}, {"apiKey": []}, {"apiKeyHeader": []}],
        "tags": [{"name": "open311", "description": "GeoReport v2"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "query", "name": "api_key",
                           "description": "minqing apikey create 生成的密钥"},
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": SCHEMAS,
        },
    }


@blueprint.get("/openapi.json")
def openapi_document():
    return answer("json", document(current_app._get_current_object()), "openapi")
